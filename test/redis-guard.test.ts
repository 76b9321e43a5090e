import { randomUUID } from "node:crypto";
import { guardedClient, LimitExceededError, webhookSink } from "@tollgate/core";
import { createRedisStore } from "@tollgate/redis";
import { type FakeProviders, startFakeProviders } from "@tollgate/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createClients } from "./clients";
import { startReceiver } from "./webhook-receiver";

// Redis is a required service of this suite (README, .ci/run): a missing server fails here, never skips.
const clients: Redis[] = [];
let fake: FakeProviders;
beforeAll(async () => {
  fake = await startFakeProviders();
});
afterAll(async () => {
  await fake.close();
  for (const client of clients) client.disconnect();
});
beforeEach(() => fake.reset());

/** Two guard instances, each with its own Redis connection, sharing one store prefix: two app servers. */
function twoInstances(options: Omit<Parameters<typeof guardedClient>[0], "providers" | "store">) {
  const prefix = `tollgate-e2e:${randomUUID()}`;
  return [0, 1].map(() => {
    const redis = new Redis({ host: "127.0.0.1", port: 6379, enableOfflineQueue: false, lazyConnect: false });
    clients.push(redis);
    return guardedClient({
      ...options,
      providers: { openai: createClients(fake).openai },
      store: createRedisStore(redis, { prefix }),
    });
  });
}

describe("guards sharing Redis", () => {
  it("admit exactly 50 of 200 concurrent calls across two instances", async () => {
    const instances = twoInstances({ limits: [{ id: "rpm", scope: "user", requests: 50, per: "1m" }] });
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, index) =>
        instances[index % 2]!.for({ user: "shared" }).openai.chat.completions.create({
          model: "gpt-4o-mini",
          max_tokens: 5,
          messages: [{ role: "user", content: `${index}` }],
        }),
      ),
    );
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(50);
    expect(
      results.filter((result) => result.status === "rejected" && LimitExceededError.isInstance(result.reason)),
    ).toHaveLength(150);
    expect(fake.requests).toHaveLength(50);
  });

  it("deliver each budget threshold once, and a block set on one instance stops the other", async () => {
    const receiver = await startReceiver("secret");
    const instances = twoInstances({
      limits: [{ id: "monthly", scope: "global", usd: 1, period: "month" }],
      prices: { "gpt-4o-mini": { input: 1_000, output: 1_000 } },
      alerts: {
        sinks: [webhookSink({ url: receiver.url, secret: "secret" })],
        projected: false,
      },
    });
    fake.addRule({ usage: { inputTokens: 60, outputTokens: 40 } });
    for (let call = 0; call < 12; call++) {
      const guard = instances[call % 2]!;
      await guard
        .for({ user: `u${call}` })
        .openai.chat.completions.create({
          model: "gpt-4o-mini",
          max_tokens: 40,
          messages: [{ role: "user", content: `q${call}` }],
        })
        .catch(() => undefined);
      await guard.close();
    }
    for (const guard of instances) await guard.close();
    await receiver.close();
    expect(receiver.received.map((delivery) => (delivery.body as { fraction: number }).fraction).sort()).toEqual([
      0.5, 0.8, 1,
    ]);
    expect(receiver.received.every((delivery) => delivery.validSignature)).toBe(true);
    // Instance 0 can read what instance 1 recorded.
    const [total] = await instances[0]!.usage();
    expect(total?.requests).toBeGreaterThanOrEqual(10);

    await instances[0]!.block({ user: "mallory" }, { reason: "leaked key" });
    await expect(
      instances[1]!.for({ user: "mallory" }).openai.chat.completions.create({
        model: "gpt-4o-mini",
        max_tokens: 5,
        messages: [{ role: "user", content: "x" }],
      }),
    ).rejects.toMatchObject({ code: "BLOCKED", reason: "leaked key" });
    expect((await instances[1]!.blocked()).map((entry) => entry.scope)).toEqual(["user:mallory"]);
  });
});
