import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
} from "aws-lambda";
import type { ChatHandler } from "./chat-handler";

/** An API Gateway HTTP API event (payload format 2.0), with or without a JWT authorizer on the route. */
export type ApiGatewayEvent = APIGatewayProxyEventV2 | APIGatewayProxyEventV2WithJWTAuthorizer;

export type LambdaChatHandler = (event: ApiGatewayEvent) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * Runs a Web-standard handler as an AWS Lambda handler behind an API Gateway HTTP API: the event becomes a `Request`,
 * the `Response` becomes the structured result. `chat` is asked for the handler on every invocation, so a lazily
 * created one (see `instance.ts`) is built by the first and reused by the warm ones.
 *
 * - The IP is `requestContext.http.sourceIp`, the address API Gateway's own connection came from. The
 *   `X-Forwarded-For` header it passes on starts with whatever the client sent, and is never read.
 * - The user is the `sub` claim when a JWT authorizer on the route has verified the token; otherwise the handler
 *   verifies the `Authorization: Bearer` token itself.
 * - There is no `waitUntil`: Lambda freezes the instance once the handler returns, so the handler settles the call's
 *   usage in Redis before it answers.
 */
export function toLambdaHandler(chat: () => Promise<ChatHandler>): LambdaChatHandler {
  return async (event) => {
    const handler = await chat();
    const user = verifiedSubject(event);
    const response = await handler(toRequest(event), {
      clientAddress: event.requestContext.http.sourceIp,
      ...(user === undefined ? {} : { user }),
    });
    return toResult(response);
  };
}

function toRequest(event: ApiGatewayEvent): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(event.headers)) {
    if (value !== undefined) headers.set(name, value);
  }
  // Payload 2.0 moves cookies out of the headers.
  if (event.cookies !== undefined && event.cookies.length > 0) headers.set("cookie", event.cookies.join("; "));
  const method = event.requestContext.http.method;
  const query = event.rawQueryString === "" ? "" : `?${event.rawQueryString}`;
  const url = `https://${event.requestContext.domainName}${event.rawPath}${query}`;
  if (event.body === undefined || method === "GET" || method === "HEAD") return new Request(url, { method, headers });
  // API Gateway base64-encodes bodies it does not take for text.
  const body = event.isBase64Encoded ? new Uint8Array(Buffer.from(event.body, "base64")) : event.body;
  return new Request(url, { method, headers, body });
}

async function toResult(response: Response): Promise<APIGatewayProxyStructuredResultV2> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  return {
    statusCode: response.status,
    headers,
    body: await response.text(),
    isBase64Encoded: false,
    ...(cookies.length === 0 ? {} : { cookies }),
  };
}

/** The `sub` claim of a JWT that API Gateway's authorizer verified, if the route has one. */
function verifiedSubject(event: ApiGatewayEvent): string | undefined {
  const authorizer = "authorizer" in event.requestContext ? event.requestContext.authorizer : undefined;
  // A Lambda or IAM authorizer on the route puts something else here; only a verified JWT names the user.
  const subject = authorizer?.jwt?.claims?.sub;
  return typeof subject === "string" && subject !== "" ? subject : undefined;
}
