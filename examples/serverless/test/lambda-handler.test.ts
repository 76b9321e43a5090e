import type { Limit } from "@tollgate/core";
import { createRedisStore } from "@tollgate/redis";
import { type FakeProviders, startFakeProviders } from "@tollgate/testing";
import type { APIGatewayProxyEventV2, APIGatewayProxyEventV2WithJWTAuthorizer } from "aws-lambda";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ChatEnvironment, createChatFromEnvironment } from "../src/chat-from-environment";
import { signUserToken } from "../src/chat-handler";
import { onFirstUse } from "../src/first-use";
import { type ApiGatewayEvent, toLambdaHandler } from "../src/lambda-adapter";
import {
  chatRequest,
  closedPort,
  coldStart,
  connectionsNamed,
  disconnectRedisClients,
  newPrefix,
  redisClient,
  redisUp,
  redisUrl,
  secret,
} from "./harness";

let fake: FakeProviders;
beforeAll(async () => {
  fake = await startFakeProviders();
});
beforeEach(() => fake.reset());
afterAll(async () => {
  disconnectRedisClients();
  await fake?.close();
});

interface EventOptions {
  content?: string;
  /** `Authorization: Bearer <signed token>` for this user. */
  bearer?: string;
  /** The `sub` claim of a JWT that API Gateway's authorizer verified. */
  jwtSubject?: string;
  sourceIp?: string;
  /** What the client sent as X-Forwarded-For (API Gateway passes it on and appends its own peer). */
  forwardedFor?: string;
  base64?: boolean;
}

/** An API Gateway HTTP API event, payload format 2.0, as API Gateway sends it for `POST /api/chat`. */
function apiGatewayEvent(options: EventOptions = {}): ApiGatewayEvent {
  const sourceIp = options.sourceIp ?? "203.0.113.5";
  const json = JSON.stringify({ messages: [{ role: "user", content: options.content ?? "Hello" }] });
  const domainName = "r3pmxmplak.execute-api.eu-central-1.amazonaws.com";
  const event: APIGatewayProxyEventV2 = {
    version: "2.0",
    routeKey: "POST /api/chat",
    rawPath: "/api/chat",
    rawQueryString: "",
    cookies: ["theme=dark"],
    headers: {
      accept: "*/*",
      "content-length": String(Buffer.byteLength(json)),
      "content-type": "application/json",
      host: domainName,
      "user-agent": "Mozilla/5.0",
      "x-amzn-trace-id": "Root=1-5e6722a7-cc56xmpl46db7ae02d4da47e",
      "x-forwarded-for": options.forwardedFor === undefined ? sourceIp : `${options.forwardedFor}, ${sourceIp}`,
      "x-forwarded-port": "443",
      "x-forwarded-proto": "https",
      ...(options.bearer === undefined ? {} : { authorization: `Bearer ${signUserToken(secret, options.bearer)}` }),
    },
    requestContext: {
      accountId: "123456789012",
      apiId: "r3pmxmplak",
      domainName,
      domainPrefix: "r3pmxmplak",
      http: { method: "POST", path: "/api/chat", protocol: "HTTP/1.1", sourceIp, userAgent: "Mozilla/5.0" },
      requestId: "JKJaXmPLvHcESHA=",
      routeKey: "POST /api/chat",
      stage: "$default",
      time: "29/Nov/2026:10:16:23 +0000",
      timeEpoch: 1_795_947_383_220,
    },
    body: options.base64 === true ? Buffer.from(json).toString("base64") : json,
    isBase64Encoded: options.base64 === true,
  };
  if (options.jwtSubject === undefined) return event;
  const claims = { sub: options.jwtSubject, iss: "https://auth.example", aud: "chat", exp: 1_795_950_000 };
  const authorizer = { principalId: "", integrationLatency: 0, jwt: { claims, scopes: null } };
  return {
    ...event,
    requestContext: { ...event.requestContext, authorizer },
  } satisfies APIGatewayProxyEventV2WithJWTAuthorizer;
}

function environment(prefix: string, overrides: ChatEnvironment = {}): ChatEnvironment {
  return {
    OPENAI_API_KEY: "sk-test-serverless-lambda",
    OPENAI_BASE_URL: fake.openaiBaseURL,
    REDIS_URL: redisUrl,
    TOLLGATE_REDIS_PREFIX: prefix,
    USER_TOKEN_SECRET: secret,
    ...overrides,
  };
}

describe.skipIf(!redisUp)("the AWS Lambda handler (API Gateway HTTP API, payload 2.0)", () => {
  it("answers with the reply; the IP is requestContext.http.sourceIp, never X-Forwarded-For", async () => {
    const prefix = newPrefix();
    const { handler } = coldStart(fake, prefix);
    const lambda = toLambdaHandler(async () => handler);

    const result = await lambda(apiGatewayEvent({ bearer: "alice", forwardedFor: "198.51.100.77" }));
    const encoded = await lambda(apiGatewayEvent({ bearer: "alice", content: "Hi", base64: true }));

    expect(result).toMatchObject({
      statusCode: 200,
      headers: { "content-type": "application/json", "cache-control": "no-store" },
      isBase64Encoded: false,
    });
    expect(JSON.parse(result.body ?? "")).toEqual({
      reply: "w1 w2 w3 w4 w5 ",
      usage: { inputTokens: 2, outputTokens: 5 },
    });
    expect(encoded.statusCode).toBe(200);
    expect(fake.requests[1]?.body).toMatchObject({ messages: [{ role: "user", content: "Hi" }] });
    // Settled before the handler returned: Lambda freezes the instance right after.
    const rows = await createRedisStore(redisClient(), { prefix }).queryUsage({
      since: 0,
      until: Date.now() + 1,
      groupBy: ["user", "ip"],
    });
    expect(rows).toMatchObject([{ group: { user: "alice", ip: "203.0.113.5" }, requests: 2 }]);
  });

  it("takes the user from the JWT authorizer's sub claim and answers 429 with Retry-After and RateLimit", async () => {
    const limits: Limit[] = [{ id: "user-rpm", scope: "user", requests: 2, per: "1m" }];
    const { handler } = coldStart(fake, newPrefix(), { limits });
    const lambda = toLambdaHandler(async () => handler);

    const statuses: (number | undefined)[] = [];
    for (let call = 0; call < 2; call++)
      statuses.push((await lambda(apiGatewayEvent({ jwtSubject: "alice" }))).statusCode);
    const refused = await lambda(apiGatewayEvent({ jwtSubject: "alice", bearer: "mallory" }));

    expect(statuses).toEqual([200, 200]);
    expect(refused.statusCode).toBe(429);
    const retryAfter = Number(refused.headers?.["retry-after"]);
    expect(retryAfter).toBeGreaterThan(55);
    expect(refused.headers).toMatchObject({
      "ratelimit-policy": '"user-rpm";q=2;w=60',
      ratelimit: `"user-rpm";r=0;t=${retryAfter}`,
    });
    expect(JSON.parse(refused.body ?? "")).toEqual({ error: "rate_limited", limit: "user-rpm" });
    expect((await lambda(apiGatewayEvent({ jwtSubject: "bob" }))).statusCode).toBe(200);
    // No verified claim and no valid token: nobody.
    expect((await lambda(apiGatewayEvent())).statusCode).toBe(401);
    expect(fake.requests).toHaveLength(3);
  });

  it("initialises once per cold start, for concurrent first invocations of both entry points alike", async () => {
    const prefix = newPrefix();
    Object.assign(process.env, environment(prefix));
    const { handler: lambda } = await import("../src/lambda");
    const { default: fetchHandler } = await import("../src/handler");
    const { chatInstance } = await import("../src/instance");
    const connectionName = `tollgate:${prefix}`;
    try {
      expect(await connectionsNamed(connectionName)).toBe(0); // nothing happens at import

      const [lambdaResults, fetchResponses] = await Promise.all([
        Promise.all([1, 2, 3].map(() => lambda(apiGatewayEvent({ bearer: "carol" })))),
        Promise.all([1, 2].map(() => fetchHandler(chatRequest("dave"), { clientAddress: "203.0.113.9" }))),
      ]);

      expect(lambdaResults.map((result) => result.statusCode)).toEqual([200, 200, 200]);
      expect(fetchResponses.map((response) => response.status)).toEqual([200, 200]);
      expect(await connectionsNamed(connectionName)).toBe(1);
      const warm = await lambda(apiGatewayEvent({ bearer: "carol" }));
      expect(warm.statusCode).toBe(200);
      expect(await connectionsNamed(connectionName)).toBe(1);
      const rows = await createRedisStore(redisClient(), { prefix }).queryUsage({
        since: 0,
        until: Date.now() + 1,
        groupBy: ["user"],
      });
      expect(rows.map((row) => [row.group.user, row.requests]).sort()).toEqual([
        ["carol", 4],
        ["dave", 2],
      ]);
    } finally {
      (await chatInstance.ifStarted())?.redis.disconnect();
    }
  });

  it('follows TOLLGATE_ON_STORE_ERROR when Redis is down: 503 under "deny", unmetered under "allow"', async () => {
    const down = `redis://127.0.0.1:${await closedPort()}`;
    const logs: string[] = [];
    const log = (message: string) => logs.push(message);
    const deny = onFirstUse(async () => createChatFromEnvironment(environment(newPrefix(), { REDIS_URL: down }), log));
    const allow = onFirstUse(async () =>
      createChatFromEnvironment(environment(newPrefix(), { REDIS_URL: down, TOLLGATE_ON_STORE_ERROR: "allow" }), log),
    );
    try {
      const denied = await toLambdaHandler(async () => (await deny()).chat)(apiGatewayEvent({ bearer: "alice" }));
      expect(denied.statusCode).toBe(503);
      expect(denied.headers?.["retry-after"]).toBe("5");
      expect(fake.requests).toHaveLength(0);

      const allowed = await toLambdaHandler(async () => (await allow()).chat)(apiGatewayEvent({ bearer: "alice" }));
      expect(allowed.statusCode).toBe(200);
      expect(fake.requests).toHaveLength(1);
      expect(logs).toContain("chat: Redis unavailable, call refused (onStoreError: deny)");
      expect(logs).toContain("tollgate: call let through unmetered");
    } finally {
      (await deny.ifStarted())?.redis.disconnect();
      (await allow.ifStarted())?.redis.disconnect();
    }
  });

  it("fails the invocation, not the module load, when initialisation fails, and initialises again on the next", async () => {
    let environmentNow: ChatEnvironment = environment(newPrefix(), { USER_TOKEN_SECRET: "" });
    const instance = onFirstUse(async () => createChatFromEnvironment(environmentNow));
    const lambda = toLambdaHandler(async () => (await instance()).chat);

    await expect(lambda(apiGatewayEvent({ bearer: "alice" }))).rejects.toThrow("Set USER_TOKEN_SECRET");
    // The cause goes away (here a variable; in life, say, a secrets-manager timeout): the same instance recovers.
    environmentNow = environment(newPrefix());
    try {
      expect((await lambda(apiGatewayEvent({ bearer: "alice" }))).statusCode).toBe(200);
    } finally {
      (await instance.ifStarted())?.redis.disconnect();
    }
  });
});
