import { randomUUID } from "node:crypto";
import { type GuardEvent, guardedClient, StoreUnavailableError } from "@tollgate/core";
import { createRedisStore } from "@tollgate/redis";
import { type FakeProviders, startFakeProviders } from "@tollgate/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClients } from "./clients";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy";

let fake: FakeProviders;
let proxy: TcpProxy;
const clients: Redis[] = [];
beforeAll(async () => {
  fake = await startFakeProviders();
  proxy = await startTcpProxy(6379);
});
afterAll(async () => {
  for (const client of clients) client.disconnect();
  await proxy.close();
  await fake.close();
});

function guardOverProxy(onStoreError: "deny" | "allow", events: GuardEvent[]) {
  const redis = new Redis({
    host: "127.0.0.1",
    port: proxy.port,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => 50, // keep trying to reconnect, every 50 ms
  });
  redis.on("error", () => undefined);
  clients.push(redis);
  return guardedClient({
    providers: { openai: createClients(fake).openai },
    store: createRedisStore(redis, { prefix: `tollgate-outage:${randomUUID()}`, commandTimeoutMs: 300 }),
    limits: [{ id: "rpm", scope: "user", requests: 100, per: "1m" }],
    onStoreError,
    storeTimeoutMs: 500,
    onEvent: (event) => events.push(event),
  });
}

const call = (guard: ReturnType<typeof guardOverProxy>) =>
  guard.for({ user: "u" }).openai.chat.completions.create({
    model: "gpt-4o-mini",
    max_tokens: 5,
    messages: [{ role: "user", content: randomUUID() }],
  });

async function eventually(check: () => Promise<unknown>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describe("Redis goes away mid-run", () => {
  it("fails fast under onStoreError: deny, lets calls through under allow, and recovers without a restart", async () => {
    const denyEvents: GuardEvent[] = [];
    const allowEvents: GuardEvent[] = [];
    const deny = guardOverProxy("deny", denyEvents);
    const allow = guardOverProxy("allow", allowEvents);
    await eventually(() => call(deny));
    await call(allow);
    const sentBefore = fake.requests.length;

    await proxy.cut();
    const started = performance.now();
    await expect(call(deny)).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(performance.now() - started).toBeLessThan(1_000);
    await call(allow); // unmetered, but served
    expect(allowEvents.some((event) => event.type === "call.unmetered")).toBe(true);
    expect(fake.requests.length).toBe(sentBefore + 1);

    await proxy.restore();
    await eventually(() => call(deny));
    expect(denyEvents.some((event) => event.type === "store.error")).toBe(true);
  });
});
