import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { ChatHandler } from "./chat-handler";

const maxBodyBytes = 64 * 1024;

/**
 * Runs a Web-standard handler on `node:http` (Node 20): builds a `Request` from the incoming message, hands the
 * socket's peer address over as `clientAddress` (so no header is needed, and none is trusted), writes the
 * `Response` back, and keeps `waitUntil` work from being lost (`pending()` lists it, for a graceful shutdown).
 */
export function toNodeListener(handler: ChatHandler): RequestListener & { pending(): Promise<unknown>[] } {
  const inFlight = new Set<Promise<unknown>>();
  const listener = (incoming: IncomingMessage, outgoing: ServerResponse) => {
    void serve(handler, incoming, outgoing, inFlight).catch((error: unknown) => {
      console.error(error);
      if (!outgoing.headersSent) outgoing.writeHead(500).end();
      else outgoing.destroy();
    });
  };
  return Object.assign(listener, { pending: () => [...inFlight] });
}

async function serve(
  handler: ChatHandler,
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  inFlight: Set<Promise<unknown>>,
): Promise<void> {
  const headers = new Headers();
  for (let index = 0; index + 1 < incoming.rawHeaders.length; index += 2) {
    headers.append(incoming.rawHeaders[index]!, incoming.rawHeaders[index + 1]!);
  }
  const method = incoming.method ?? "GET";
  const body = method === "GET" || method === "HEAD" ? undefined : await readBody(incoming);
  if (body === null) {
    outgoing.writeHead(413).end();
    return;
  }
  const request = new Request(new URL(incoming.url ?? "/", `http://${incoming.headers.host ?? "localhost"}`), {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const response = await handler(request, {
    ...(incoming.socket.remoteAddress === undefined ? {} : { clientAddress: incoming.socket.remoteAddress }),
    waitUntil: (promise) => {
      inFlight.add(promise);
      void promise.finally(() => inFlight.delete(promise)).catch(() => undefined);
    },
  });
  outgoing.statusCode = response.status;
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") outgoing.setHeader(name, value);
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) outgoing.setHeader("set-cookie", cookies);
  if (response.body === null) {
    outgoing.end();
    return;
  }
  for await (const chunk of response.body) outgoing.write(chunk);
  outgoing.end();
}

/** The whole body, or `null` when it is larger than the handler would ever accept. */
async function readBody(incoming: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
