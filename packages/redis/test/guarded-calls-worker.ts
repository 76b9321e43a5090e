// Child process of the multi-process tests: one app instance. It connects to Redis (standalone or Cluster), then runs
// rounds read from stdin, one JSON line each: it builds a guard on a Redis store with the round's prefix and limits,
// prints "ready", waits for "go", fires the round's guarded OpenAI calls all at once against the fake provider and
// prints one JSON line with what happened. It exits when stdin ends.
import { createInterface } from "node:readline";
import { type GuardEvent, guardedClient, LimitExceededError } from "@tollgate/core";
import { Cluster, Redis } from "ioredis";
import OpenAI from "openai";
import { createRedisStore } from "../src/index";
import { type WorkerResult, type WorkerRound, type WorkerTopology, workerPrices, workerUser } from "./worker-protocol";

/**
 * HTTP requests each worker keeps in flight. The guard still admits every call of a round at once (admission comes
 * before the SDK's fetch); this only keeps 4 workers from opening 1,000 connections together, which overflows the
 * fake provider's accept queue (511) and resets connections when its process stalls for a few seconds on a loaded
 * machine.
 */
const httpRequestsInFlight = 32;

const [topologyJson = "{}", baseURL = ""] = process.argv.slice(2);
const topology = JSON.parse(topologyJson) as WorkerTopology;
const redis =
  "cluster" in topology
    ? new Cluster(topology.cluster, { enableOfflineQueue: false, retryDelayOnFailover: 0, lazyConnect: true })
    : new Redis({ ...topology.standalone, enableOfflineQueue: false, lazyConnect: true });
redis.on("error", () => undefined);
await redis.connect();
const openai = new OpenAI({
  apiKey: "sk-test-multi-process",
  baseURL,
  maxRetries: 0,
  fetch: limitConcurrency(globalThis.fetch, httpRequestsInFlight),
});
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
process.stdout.write("connected\n");

for (;;) {
  const next = await lines.next();
  if (next.done === true) break;
  const round = JSON.parse(next.value) as WorkerRound;
  process.stdout.write(`${JSON.stringify(await runRound(round))}\n`);
}
await redis.quit();

async function runRound(round: WorkerRound): Promise<WorkerResult> {
  const reserved: number[] = [];
  const settled: number[] = [];
  const storeErrors: string[] = [];
  const alerts: string[] = [];
  const guard = guardedClient({
    providers: { openai },
    store: createRedisStore(redis, { prefix: round.prefix, commandTimeoutMs: 30_000 }),
    prices: workerPrices,
    limits: round.limits,
    // The test measures exactness, not latency: 1,000 calls queue on one hash slot of a loaded machine.
    storeTimeoutMs: 60_000,
    ...(round.detectors ? {} : { loopDetection: false, anomalyDetection: false }),
    onEvent: (event: GuardEvent) => {
      if (event.type === "call.admitted") reserved.push(event.estimate.costNanoUsd);
      if (event.type === "call.settled") settled.push(event.record.costNanoUsd);
      if (event.type === "store.error") storeErrors.push(`${event.operation}: ${event.error.message}`);
      if (event.type === "alert" && event.alert.type === "budget.threshold") {
        alerts.push(`${event.alert.limitId}@${event.alert.fraction}`);
      }
    },
  });
  const { openai: guarded } = guard.for({ user: workerUser(process.pid) });
  process.stdout.write("ready\n");
  const go = await lines.next();
  if (go.done === true || go.value !== "go") throw new Error(`expected "go", got ${JSON.stringify(go.value)}`);

  const outcomes = await Promise.allSettled(
    Array.from({ length: round.calls }, (_, index) =>
      guarded.chat.completions.create({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: round.prompt ?? `call ${index} ${"x".repeat(40 + (index % 37) * 4)}` }],
        max_tokens: round.maxTokens ?? 8 + (index % 5),
      }),
    ),
  );
  await guard.close();
  const isRefusal = (outcome: PromiseSettledResult<unknown>) =>
    outcome.status === "rejected" && LimitExceededError.isInstance(outcome.reason);
  return {
    admitted: outcomes.filter((outcome) => outcome.status === "fulfilled").length,
    refused: outcomes.filter(isRefusal).length,
    errors: outcomes.flatMap((outcome) =>
      outcome.status === "rejected" && !isRefusal(outcome) ? [describeError(outcome.reason)] : [],
    ),
    storeErrors,
    budgetAlerts: alerts,
    reservedNanoUsd: sum(reserved),
    reservedCostsNanoUsd: [...new Set(reserved)],
    settledNanoUsd: sum(settled),
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/** `fetch`, with at most `limit` requests waiting for their response headers at a time. */
function limitConcurrency(fetch: typeof globalThis.fetch, limit: number): typeof globalThis.fetch {
  let running = 0;
  const queue: (() => void)[] = [];
  return async (input, init) => {
    if (running >= limit) await new Promise<void>((resolve) => queue.push(resolve));
    running += 1;
    try {
      return await fetch(input, init);
    } finally {
      running -= 1;
      queue.shift()?.();
    }
  };
}

/** The message, with its causes: an SDK "Connection error." says little without the socket error under it. */
function describeError(error: unknown): string {
  const parts: string[] = [];
  for (let current = error, depth = 0; current !== undefined && depth < 4; depth++) {
    parts.push(current instanceof Error ? current.message : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(" <- ");
}
