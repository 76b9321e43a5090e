// The multi-process exactness checks, shared by the standalone and the Cluster test files: several worker processes
// (app instances) fire guarded OpenAI calls through the real SDK at the fake provider, all sharing one Redis store.
import { type CallEstimate, guardedClient, type Limit } from "@tollgate/core";
import type { FakeProviders } from "@tollgate/testing";
import { Cluster, type Redis } from "ioredis";
import OpenAI from "openai";
import { expect } from "vitest";
import { createRedisStore } from "../src/index";
import { windowSlots } from "./store-fixtures";
import type { WorkerPool } from "./worker-pool";
import { type WorkerResult, workerPrices, workerUser } from "./worker-protocol";

export interface RoundContext {
  workers: WorkerPool;
  fake: FakeProviders;
  /** A client of the Redis the workers use, to read what they wrote. */
  redis: Redis | Cluster;
}

export const callsPerWorker = 250;

/**
 * Every worker fires `callsPerWorker` calls at once against one global `requests: 400` limit. Exactly 400 are admitted
 * and reach the provider, the rest are refused by the limit, nothing else fails, the counter ends at 400, the ledger
 * sums to the usage the provider reported, and no reservation is left behind.
 */
export async function expectExactRequests(context: RoundContext, prefix: string): Promise<WorkerResult[]> {
  const { workers, fake, redis } = context;
  fake.reset();
  const removeRule = fake.addRule({ usage: { cachedInputTokens: 4 } });
  const limits: Limit[] = [{ id: "shared-requests", scope: "global", requests: 400, per: "1m" }];
  const results = await workers.run({ prefix, limits, calls: callsPerWorker, detectors: true });
  removeRule();
  const calls = workers.pids.length * callsPerWorker;

  // No store error, timeout or CROSSSLOT reached a caller: every call was admitted or refused by the limit.
  expect(results.flatMap((result) => [...result.errors, ...result.storeErrors])).toEqual([]);
  expect(sum(results.map((result) => result.admitted))).toBe(400);
  expect(sum(results.map((result) => result.refused))).toBe(calls - 400);
  expect(fake.requests).toHaveLength(400);
  expect(await counterUsed(redis, prefix, "shared-requests")).toBe(400);

  // One usage row per settled call, summing exactly to what the fake provider reported.
  const reported = reportedUsage(fake);
  const store = createRedisStore(redis, { prefix });
  expect(await store.queryUsage({})).toEqual([
    {
      group: {},
      requests: 400,
      inputTokens: sum(reported.map((usage) => usage.inputTokens)),
      cachedInputTokens: 1_600,
      cacheWriteInputTokens: 0,
      outputTokens: sum(reported.map((usage) => usage.outputTokens)),
      reasoningTokens: 0,
      costNanoUsd: sum(reported.map(expectedCostNanoUsd)),
      estimatedRequests: 0,
      errorRequests: 0,
    },
  ]);
  const byProcess = await store.queryUsage({ groupBy: ["user"] });
  expect(Object.fromEntries(byProcess.map((row) => [row.group.user, row.requests]))).toEqual(
    Object.fromEntries(
      workers.pids.flatMap((pid, index) => {
        const admitted = results[index]?.admitted ?? 0;
        return admitted === 0 ? [] : [[workerUser(pid), admitted]];
      }),
    ),
  );
  // Every reservation was settled: what is left of them are the tombstones settlement leaves for a minute.
  expect(await openReservations(redis, prefix)).toEqual([]);
  return results;
}

/**
 * Every worker fires `callsPerWorker` identical calls at once against one global `usd` limit. Each call reports the
 * usage of its own worst case, so settling refunds nothing and the counter never goes down: the sum of the worst cases
 * admitted is then exactly what the store let in, must not exceed the limit, and must stop one call short of it.
 */
export async function expectUsdWorstCaseWithinLimit(context: RoundContext, prefix: string): Promise<void> {
  const { workers, fake, redis } = context;
  const prompt = "Summarise the causes of the French Revolution in one short sentence, please.";
  const maxTokens = 12;
  fake.reset();
  const estimate = await estimateOf(fake, prompt, maxTokens);
  const worstCaseNanoUsd = estimate.costNanoUsd;
  // By hand, at workerPrices: 1 USD per 1M input tokens (1,000 nano-USD each), 2 USD per 1M output tokens.
  expect(worstCaseNanoUsd).toBe(estimate.inputTokens * 1_000 + maxTokens * 2_000);
  fake.reset();
  const removeRule = fake.addRule({
    usage: { inputTokens: estimate.inputTokens, cachedInputTokens: 0, outputTokens: maxTokens },
  });
  const affordable = 300;
  const capacityNanoUsd = affordable * worstCaseNanoUsd + Math.floor(worstCaseNanoUsd / 2);
  const limits: Limit[] = [{ id: "shared-usd", scope: "global", usd: capacityNanoUsd / 1e9, per: "1h" }];
  const results = await workers.run({ prefix, limits, calls: callsPerWorker, prompt, maxTokens, detectors: false });
  removeRule();
  const calls = workers.pids.length * callsPerWorker;

  expect(results.flatMap((result) => [...result.errors, ...result.storeErrors])).toEqual([]);
  expect(new Set(results.flatMap((result) => result.reservedCostsNanoUsd))).toEqual(new Set([worstCaseNanoUsd]));
  const reservedNanoUsd = sum(results.map((result) => result.reservedNanoUsd));
  expect(reservedNanoUsd).toBeLessThanOrEqual(capacityNanoUsd);
  expect(sum(results.map((result) => result.admitted))).toBe(affordable);
  expect(sum(results.map((result) => result.refused))).toBe(calls - affordable);
  expect(reservedNanoUsd).toBe(affordable * worstCaseNanoUsd);

  // The provider saw exactly the admitted calls, and each cost its worst case: nothing was refunded along the way.
  expect(fake.requests).toHaveLength(affordable);
  const trueSpendNanoUsd = sum(reportedUsage(fake).map(expectedCostNanoUsd));
  expect(trueSpendNanoUsd).toBe(reservedNanoUsd);
  expect(sum(results.map((result) => result.settledNanoUsd))).toBe(trueSpendNanoUsd);
  expect(await counterUsed(redis, prefix, "shared-usd")).toBe(trueSpendNanoUsd);
  // Each default budget threshold was delivered once across the processes: the once-markers held.
  expect(results.flatMap((result) => result.budgetAlerts).sort()).toEqual([
    "shared-usd@0.5",
    "shared-usd@0.8",
    "shared-usd@1",
  ]);
  expect(await openReservations(redis, prefix)).toEqual([]);
}

/** What one call of `prompt` reserves, measured by a guard on the memory store (the estimate is deterministic). */
async function estimateOf(fake: FakeProviders, prompt: string, maxTokens: number): Promise<CallEstimate> {
  let estimate: CallEstimate | undefined;
  const guard = guardedClient({
    providers: { openai: new OpenAI({ apiKey: "sk-test-estimate", baseURL: fake.openaiBaseURL, maxRetries: 0 }) },
    prices: workerPrices,
    limits: [{ id: "estimate", scope: "global", usd: 1, per: "1h" }],
    onEvent: (event) => {
      if (event.type === "call.admitted") estimate = event.estimate;
    },
  });
  await guard.for({}).openai.chat.completions.create({
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: prompt }],
    max_tokens: maxTokens,
  });
  await guard.close();
  if (estimate === undefined) throw new Error("the guard reported no admission");
  return estimate;
}

/**
 * What a global rolling-window limit has counted, read straight from the store's rolling-window hash (the sum of its slots):
 * in store units, so nano-USD for `usd`. Unlike `guard.check`, which clamps what remains at zero, this shows a count
 * past the capacity too.
 */
async function counterUsed(redis: Redis | Cluster, prefix: string, limitId: string): Promise<number> {
  const keys = await keysMatching(redis, `{${prefix}}window:*:${limitId}|global`);
  expect(keys).toHaveLength(1);
  const hash = await redis.hgetall(keys[0] ?? "");
  const total = sum(windowSlots(hash).map(([, amount]) => amount));
  // The running total the admission script reads must equal its slots.
  expect(Number(hash.t)).toBe(total);
  return total;
}

/** Reservation records not yet settled (a settled one stays a minute as the tombstone `settled`). */
export async function openReservations(redis: Redis | Cluster, prefix: string): Promise<string[]> {
  const keys = await keysMatching(redis, `{${prefix}}reservation:*`);
  const values = await Promise.all(keys.map((key) => redis.get(key)));
  return keys.filter((_key, index) => values[index] !== "settled");
}

/** Keys matching `pattern`, on a standalone server or on every primary of a Cluster. */
export async function keysMatching(redis: Redis | Cluster, pattern: string): Promise<string[]> {
  const nodes = redis instanceof Cluster ? redis.nodes("master") : [redis];
  const keys: string[] = [];
  for (const node of nodes) {
    let cursor = "0";
    do {
      const [next, batch] = await node.scan(cursor, "MATCH", pattern, "COUNT", 1_000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== "0");
  }
  return keys;
}

function reportedUsage(fake: FakeProviders) {
  return fake.requests.map((request) => {
    if (request.usage === undefined) throw new Error(`request ${request.id} reported no usage`);
    return request.usage;
  });
}

/** The spend, in nano-USD, of a usage the fake provider reported, at `workerPrices`. */
function expectedCostNanoUsd(usage: { inputTokens: number; cachedInputTokens: number; outputTokens: number }) {
  return (
    (usage.inputTokens - usage.cachedInputTokens) * 1_000 + usage.cachedInputTokens * 500 + usage.outputTokens * 2_000
  );
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
