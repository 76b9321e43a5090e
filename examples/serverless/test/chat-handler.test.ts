import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { guardedClient, type Limit } from "@tollgate/core";
import { createRedisStore } from "@tollgate/redis";
import { type FakeProviders, startFakeProviders } from "@tollgate/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ChatHandlerConfig, signUserToken } from "../src/chat-handler";
import { toNodeListener } from "../src/node-adapter";
import {
  chatRequest,
  closedPort,
  coldStart as coldStartOn,
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

const coldStart = (prefix: string, overrides?: Partial<ChatHandlerConfig>) => coldStartOn(fake, prefix, overrides);

describe.skipIf(!redisUp)("the serverless chat handler", () => {
  it("answers with the completion, and its usage is in Redis before the function returns", async () => {
    const prefix = newPrefix();
    const { handler } = coldStart(prefix);

    const response = await handler(chatRequest("alice"), { clientAddress: "203.0.113.5" });

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ reply: "w1 w2 w3 w4 w5 ", usage: { inputTokens: 2, outputTokens: 5 } });
    expect(fake.requests[0]?.body).toMatchObject({ model: "gpt-4o-mini", max_tokens: 5 });
    const ledger = createRedisStore(redisClient(), { prefix });
    const rows = await ledger.queryUsage({ since: 0, until: Date.now() + 1, groupBy: ["user", "ip"] });
    expect(rows).toMatchObject([{ group: { user: "alice", ip: "203.0.113.5" }, requests: 1, outputTokens: 5 }]);
  });

  it("hands the settlement to waitUntil when the platform has one", async () => {
    const prefix = newPrefix();
    const { handler } = coldStart(prefix);
    const background: Promise<unknown>[] = [];

    const response = await handler(chatRequest("alice"), {
      clientAddress: "203.0.113.5",
      waitUntil: (promise) => background.push(promise),
    });

    expect(response.status).toBe(200);
    expect(background).toHaveLength(1);
    await Promise.all(background);
    const rows = await createRedisStore(redisClient(), { prefix }).queryUsage({ since: 0, until: Date.now() + 1 });
    expect(rows[0]?.requests).toBe(1);
  });

  it("shares limits across cold starts through Redis: 429 with Retry-After and the RateLimit fields", async () => {
    const prefix = newPrefix();
    const limits: Limit[] = [{ id: "user-rpm", scope: "user", requests: 3, per: "1m" }];
    const instances = [coldStart(prefix, { limits }).handler, coldStart(prefix, { limits }).handler];

    const statuses: number[] = [];
    let refusal: Response | undefined;
    for (let call = 0; call < 4; call++) {
      const response = await instances[call % 2]!(chatRequest("alice"), { clientAddress: "203.0.113.5" });
      statuses.push(response.status);
      if (response.status === 429) refusal = response;
    }

    expect(statuses).toEqual([200, 200, 200, 429]);
    const retryAfter = Number(refusal?.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(55);
    expect(refusal?.headers.get("ratelimit-policy")).toBe('"user-rpm";q=3;w=60');
    expect(refusal?.headers.get("ratelimit")).toBe(`"user-rpm";r=0;t=${retryAfter}`);
    expect(await refusal?.json()).toEqual({ error: "rate_limited", limit: "user-rpm" });
    expect((await instances[0]!(chatRequest("bob"), { clientAddress: "203.0.113.5" })).status).toBe(200);
    expect(fake.requests).toHaveLength(4);
  });

  it("answers 403 to a user blocked from another process (the kill switch)", async () => {
    const prefix = newPrefix();
    const { handler } = coldStart(prefix);
    const operator = guardedClient({ providers: {}, store: createRedisStore(redisClient(), { prefix }) });

    await operator.block({ user: "mallory" }, { reason: "leaked token" });

    expect((await handler(chatRequest("mallory"), { clientAddress: "203.0.113.5" })).status).toBe(403);
    expect((await handler(chatRequest("alice"), { clientAddress: "203.0.113.5" })).status).toBe(200);
    expect(fake.requests).toHaveLength(1);
  });

  it("takes the user from the signed token and the IP from the platform, never from what the client claims", async () => {
    const prefix = newPrefix();
    const limits: Limit[] = [{ id: "ip-rpm", scope: "ip", requests: 1, per: "1m" }];
    const { handler } = coldStart(prefix, { limits });

    expect((await handler(chatRequest(undefined), { clientAddress: "203.0.113.5" })).status).toBe(401);
    const forged = chatRequest(undefined, "hi", { authorization: `Bearer admin.${"A".repeat(43)}` });
    expect((await handler(forged, { clientAddress: "203.0.113.5" })).status).toBe(401);

    const first = chatRequest("alice", "hi", { "x-forwarded-for": "198.51.100.1" });
    const second = chatRequest("bob", "hi", { "x-forwarded-for": "198.51.100.2" });
    expect((await handler(first, { clientAddress: "203.0.113.5" })).status).toBe(200);
    expect((await handler(second, { clientAddress: "203.0.113.5" })).status).toBe(429);

    // Where the platform passes the address in a header it overwrites (Vercel's x-real-ip), name that header.
    const { handler: onVercel } = coldStart(newPrefix(), { limits, clientAddressHeader: "x-real-ip" });
    expect((await onVercel(chatRequest("alice", "hi", { "x-real-ip": "203.0.113.6" }))).status).toBe(200);
    expect((await onVercel(chatRequest("bob", "hi", { "x-real-ip": "203.0.113.6" }))).status).toBe(429);
    expect((await onVercel(chatRequest("bob", "hi", { "x-real-ip": "203.0.113.7" }))).status).toBe(200);
    // Without a configured source there is no IP, and the handler says so instead of guessing.
    const { handler: unconfigured, logs } = coldStart(newPrefix(), { limits });
    expect((await unconfigured(chatRequest("alice", "hi", { "x-forwarded-for": "1.2.3.4" }))).status).toBe(500);
    expect(logs).toEqual(["chat: no client address; set clientAddressHeader for this platform"]);
  });

  it("refuses other methods and malformed bodies without calling the provider", async () => {
    const { handler } = coldStart(newPrefix());
    const context = { clientAddress: "203.0.113.5" };
    const token = `Bearer ${signUserToken(secret, "alice")}`;

    expect((await handler(new Request("https://chat.example/api/chat"), context)).status).toBe(405);
    const post = (body: string) =>
      handler(
        new Request("https://chat.example/api/chat", { method: "POST", headers: { authorization: token }, body }),
        context,
      );
    expect((await post("{")).status).toBe(400);
    expect((await post(JSON.stringify({ messages: [{ role: "system", content: "x" }] }))).status).toBe(400);
    expect((await post(JSON.stringify({ messages: [{ role: "user", content: "x".repeat(40_000) }] }))).status).toBe(
      400,
    );
    expect(fake.requests).toHaveLength(0);
  });

  describe("when Redis is unreachable", () => {
    it('fails closed with 503 under onStoreError: "deny", and serves unmetered under "allow"', async () => {
      const port = await closedPort();
      const deny = coldStart(newPrefix(), { redis: redisClient(`redis://127.0.0.1:${port}`), onStoreError: "deny" });
      const allow = coldStart(newPrefix(), { redis: redisClient(`redis://127.0.0.1:${port}`), onStoreError: "allow" });

      const started = performance.now();
      const denied = await deny.handler(chatRequest("alice"), { clientAddress: "203.0.113.5" });
      expect(denied.status).toBe(503);
      expect(denied.headers.get("retry-after")).toBe("5");
      // The cold start waits up to 1 s for the connection once; after that, a dead Redis costs nothing.
      expect(performance.now() - started).toBeLessThan(2_500);
      const again = performance.now();
      expect((await deny.handler(chatRequest("alice"), { clientAddress: "203.0.113.5" })).status).toBe(503);
      expect(performance.now() - again).toBeLessThan(500);
      expect(fake.requests).toHaveLength(0);

      const allowed = await allow.handler(chatRequest("alice"), { clientAddress: "203.0.113.5" });
      expect(allowed.status).toBe(200);
      expect(fake.requests).toHaveLength(1);
      expect(allow.logs).toContain("tollgate: call let through unmetered");
    });
  });

  describe("the deployable module on Node 20", () => {
    it("is created from the environment at cold start and serves through the node:http adapter", async () => {
      const prefix = newPrefix();
      Object.assign(process.env, {
        OPENAI_API_KEY: "sk-test-serverless-env",
        OPENAI_BASE_URL: fake.openaiBaseURL,
        REDIS_URL: redisUrl,
        TOLLGATE_REDIS_PREFIX: prefix,
        USER_TOKEN_SECRET: secret,
      });
      const { default: handler } = await import("../src/handler");
      const { chatInstance } = await import("../src/instance");
      const listener = toNodeListener(handler);
      const server = createServer(listener);
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const { port } = server.address() as AddressInfo;
      try {
        const response = await fetch(`http://127.0.0.1:${port}/api/chat`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${signUserToken(secret, "carol")}`,
            "content-type": "application/json",
            "x-forwarded-for": "198.51.100.9", // not trusted: the adapter gives the socket's peer
          },
          body: JSON.stringify({ messages: [{ role: "user", content: "Hi" }] }),
        });
        expect(response.status).toBe(200);
        expect(((await response.json()) as { reply: string }).reply).toMatch(/^w1 /);
        await Promise.all(listener.pending());
        const rows = await createRedisStore(redisClient(), { prefix }).queryUsage({
          since: 0,
          until: Date.now() + 1,
          groupBy: ["user", "ip"],
        });
        expect(rows).toMatchObject([{ group: { user: "carol", ip: "127.0.0.1" }, requests: 1 }]);
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        (await chatInstance.ifStarted())?.redis.disconnect();
      }
    });
  });
});
