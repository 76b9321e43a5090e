import { randomUUID } from "node:crypto";
import {
  type AlertLogEntry,
  alertFromLogEntry,
  createMemoryStore,
  type GuardEvent,
  guardedClient,
  type TollgateAlert,
  type TollgateStore,
} from "@tollgate/core";
import { createRedisStore } from "@tollgate/redis";
import { type FakeProviders, fakeRuleHeader, startFakeProviders } from "@tollgate/testing";
import { Redis } from "ioredis";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createClients } from "./clients";

// Redis is a required service of this suite (README, .ci/run): a missing server fails here, never skips.
const prices = { "gpt-4o-mini": { input: 1_000, output: 1_000 } }; // $0.001 per token: budgets move fast
const redisClients: Redis[] = [];
const prefixes: string[] = [];
let fake: FakeProviders;

beforeAll(async () => {
  fake = await startFakeProviders({ prices });
});
afterAll(async () => {
  await fake.close();
  const cleaner = newRedis();
  await cleaner.connect();
  for (const prefix of prefixes) {
    const keys = await cleaner.keys(`{${prefix}}*`);
    if (keys.length > 0) await cleaner.unlink(...keys);
  }
  for (const client of redisClients) client.disconnect();
});
beforeEach(() => fake.reset());

function newRedis(): Redis {
  const redis = new Redis({ host: "127.0.0.1", port: 6379, enableOfflineQueue: false, lazyConnect: true });
  redisClients.push(redis);
  return redis;
}

function newPrefix(): string {
  const prefix = `tollgate-e2e-alerts:${randomUUID()}`;
  prefixes.push(prefix);
  return prefix;
}

/**
 * Two guard instances (two app servers) on their own store handles, sharing a $1 monthly budget: twelve $0.10 calls,
 * alternating between them, cross 50 %, 80 % and 100 %. Returns what the sinks received and the guard events.
 */
async function spendTheBudget(stores: readonly [TollgateStore, TollgateStore]) {
  const delivered: TollgateAlert[] = [];
  const events: GuardEvent[] = [];
  const instances = stores.map((store) =>
    guardedClient({
      providers: { openai: createClients(fake).openai },
      store,
      limits: [{ id: "monthly", scope: "global", usd: 1, period: "month" }],
      prices,
      alerts: { sinks: [(alert) => void delivered.push(alert)], projected: false },
      onEvent: (event) => events.push(event),
    }),
  );
  fake.addRule({ usage: { inputTokens: 60, outputTokens: 40 } }); // $0.10 per call
  let admitted = 0;
  for (let call = 0; call < 12; call++) {
    const guard = instances[call % 2]!;
    await guard
      .for({ user: `u${call}` })
      .openai.chat.completions.create({
        model: "gpt-4o-mini",
        max_tokens: 40,
        messages: [{ role: "user", content: `q${call}` }],
      })
      .then(() => admitted++)
      .catch(() => undefined);
    await guard.close();
  }
  for (const guard of instances) await guard.close();
  return { delivered, events, admitted };
}

const byFraction = (alert: TollgateAlert) => (alert.type === "budget.threshold" ? alert.fraction : -1);
const sortedByFraction = (alerts: readonly TollgateAlert[]) =>
  [...alerts].sort((left, right) => byFraction(left) - byFraction(right));

function expectTheThreeThresholds(log: readonly AlertLogEntry[], delivered: readonly TollgateAlert[]) {
  expect(log).toHaveLength(3);
  expect(log.map((entry) => entry.alert)).toEqual(
    log.map(() => expect.objectContaining({ type: "budget.threshold", limitId: "monthly", scope: "global" })),
  );
  // Exactly what the sinks received, once each, newest first.
  expect(sortedByFraction(log.map(alertFromLogEntry))).toEqual(sortedByFraction(delivered));
  expect(sortedByFraction(log.map(alertFromLogEntry)).map(byFraction)).toEqual([0.5, 0.8, 1]);
  const times = log.map((entry) => entry.time);
  expect(times).toEqual([...times].sort((left, right) => right - left));
}

describe("the alert log of a guard run", () => {
  it("holds exactly the 50/80/100 % alerts of a budget, once across two instances sharing a memory store", async () => {
    const store = createMemoryStore();
    const { delivered, admitted } = await spendTheBudget([store, store]);
    expect(admitted).toBeGreaterThanOrEqual(9);
    expect(delivered).toHaveLength(3);
    const log = await store.listAlerts();
    expectTheThreeThresholds(log, delivered);
    // Limit ids, scopes, subjects and amounts: never the provider key the SDK client holds.
    expect(JSON.stringify(log)).not.toContain("sk-test-openai");
  });

  it("holds exactly the 50/80/100 % alerts on Redis, recorded once by the instance that delivered each", async () => {
    const prefix = newPrefix();
    const stores = [createRedisStore(newRedis(), { prefix }), createRedisStore(newRedis(), { prefix })] as const;
    const { delivered } = await spendTheBudget(stores);
    expect(delivered).toHaveLength(3);
    expectTheThreeThresholds(await stores[0].listAlerts(), delivered);
    expect(await stores[1].listAlerts()).toEqual(await stores[0].listAlerts());
  });

  it("a store that cannot record the alert fails neither the calls nor the delivery: it is a store.error event", async () => {
    const prefix = newPrefix();
    const redis = newRedis();
    await redis.connect();
    // The log's key holds a string: every write to it fails with WRONGTYPE, in the real Redis.
    await redis.set(`{${prefix}}alerts`, "not a sorted set", "PX", 600_000);
    const store = createRedisStore(redis, { prefix });
    const { delivered, events, admitted } = await spendTheBudget([store, store]);
    expect(admitted).toBeGreaterThanOrEqual(9);
    expect(sortedByFraction(delivered).map(byFraction)).toEqual([0.5, 0.8, 1]);
    const storeErrors = events.flatMap((event) => (event.type === "store.error" ? [event] : []));
    expect(storeErrors).toHaveLength(3);
    expect(storeErrors.every((event) => event.operation === "alert" && /WRONGTYPE/.test(event.error.message))).toBe(
      true,
    );
    expect(events.filter((event) => event.type === "alert")).toHaveLength(3);
  });

  it("records a reconciliation mismatch once, without the admin key", async () => {
    const store = createMemoryStore();
    const guard = guardedClient({
      providers: { openai: createClients(fake).openai },
      store,
      prices,
      alerts: { sinks: [() => undefined] },
    });
    await new OpenAI({ apiKey: "sk-test-openai", baseURL: fake.openaiBaseURL, maxRetries: 0 }).chat.completions.create(
      { model: "gpt-4o-mini", messages: [{ role: "user", content: "around the guard" }] },
      { headers: fakeRuleHeader({ usage: { inputTokens: 9000, outputTokens: 1000 } }) },
    );
    const adminKey = "sk-admin-PLANTED-alert-log-0123456789abcdef";
    const options = { since: new Date(Date.now() - 3_600_000), openai: { adminKey, baseURL: fake.openaiBaseURL } };
    await guard.reconcile(options);
    await guard.reconcile(options);
    await guard.close();
    const log = await store.listAlerts();
    expect(log.map((entry) => entry.alert)).toEqual([
      expect.objectContaining({ type: "reconcile.mismatch", provider: "openai", model: "gpt-4o-mini" }),
    ]);
    expect(JSON.stringify(log)).not.toContain("PLANTED");
    expect(JSON.stringify(log)).not.toContain("sk-test-openai");
  });
});
