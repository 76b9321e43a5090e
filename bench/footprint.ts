// Scale: memory per active subject in the memory store (V8 heap) and in Redis (used_memory), and the latency of a
// 5-limit admission as the number of active subjects grows. An active subject has had one call admitted and settled
// against the five limits of the store benchmark, and one usage record written, as the guard does for every call.
// The sliding windows here are one hour long, so no subject's counters expire while the population is built.
import { createMemoryStore, type TollgateStore, type UsageRecord } from "@tollgate/core";
import { createRedisStore } from "@tollgate/redis";
import type { Redis } from "ioredis";
import { admitRequest, type ChargePlan, perMinutePlan, settleRequest, subjectKeys } from "./charges";
import type { BenchContext, Section } from "./context";
import { type BenchCase, IN_FLIGHT, measureGroup } from "./harness";
import { type Comparison, measurementRow, type Row } from "./report";
import { cleanUpRedis, connectRedis, redisKeyTag, redisUsedMemory } from "./servers";
import { rowIds } from "./targets";

interface Population {
  /** Subject counts, in growing order: one store is built for each, and its admission latency measured. */
  checkpoints: number[];
  /** The checkpoints at which the footprint is measured too (small populations are all noise). */
  footprintAt: Set<number>;
}

const fullPopulation: Population = {
  checkpoints: [1_000, 10_000, 100_000],
  footprintAt: new Set([10_000, 100_000]),
};
const quickPopulation: Population = { checkpoints: [1_000, 5_000, 20_000], footprintAt: new Set([5_000, 20_000]) };

/** Subjects the latency probe admits for, drawn from the whole population. */
const probeSubjects = 1_024;

function hourPlan(): ChargePlan {
  return { ...perMinutePlan(), windowMs: 3_600_000 };
}

function usageRecord(subject: number): UsageRecord {
  const keys = subjectKeys(subject);
  return {
    time: Date.now(),
    provider: "openai",
    model: "gpt-4o-mini",
    operation: "openai.chat",
    user: keys.user,
    ip: keys.ip,
    inputTokens: 580,
    cachedInputTokens: 0,
    cacheWriteInputTokens: 0,
    outputTokens: 20,
    reasoningTokens: 0,
    costNanoUsd: 3_000_000,
    estimated: false,
    status: "ok",
    latencyMs: 450,
  };
}

let reservationSequence = 0;

/** One settled call and its ledger record for each of `subjects` subjects, `inFlight` subjects at a time. */
async function activate(
  store: TollgateStore,
  plan: ChargePlan,
  context: BenchContext,
  subjects: number,
  inFlight: number,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < subjects) {
      const subject = next++;
      const id = `${context.runId}-scale-${++reservationSequence}`;
      const result = await store.admit(admitRequest(plan, subjectKeys(subject), 5, id));
      if (!result.admitted) throw new Error("bench admission refused");
      await store.settle(settleRequest(5, id));
      await store.record(usageRecord(subject));
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

/** A 5-limit admission for random subjects of the population, settled off the clock. */
function probeCase(id: string, store: TollgateStore, plan: ChargePlan, context: BenchContext, population: number) {
  const requests = Array.from({ length: probeSubjects }, () => subjectKeys(Math.floor(Math.random() * population))).map(
    (keys) => admitRequest(plan, keys, 5, ""),
  );
  let next = 0;
  let open: string[] = [];
  const benchCase: BenchCase = {
    id,
    run: async () => {
      const reservationId = `${context.runId}-probe-${++reservationSequence}`;
      const result = await store.admit({ ...requests[next++ % probeSubjects]!, reservationId });
      if (!result.admitted) throw new Error("bench admission refused");
      open.push(reservationId);
    },
    after: async () => {
      const settling = open;
      open = [];
      for (const reservationId of settling) await store.settle(settleRequest(5, reservationId));
    },
  };
  return benchCase;
}

interface ScaleTarget {
  id: "memory" | "redis";
  title: string;
  /** A fresh, empty store for one population. */
  createStore(subjects: number): TollgateStore;
  /** Bytes the store's home (V8 heap, Redis) holds now. */
  bytes(): Promise<number>;
  /** Calls in flight while a population is built. */
  inFlight: number;
  budgetScale: number;
}

/**
 * Builds one store per population (each measured for its footprint as it is built), then probes the admission
 * latency of all of them interleaved round by round, so that the comparison between populations does not depend on
 * when the machine was busy.
 */
async function measureScale(target: ScaleTarget, context: BenchContext, population: Population): Promise<Row[]> {
  const plan = hourPlan();
  const built: { subjects: number; store: TollgateStore; bytesPerSubject: number | undefined }[] = [];
  for (const subjects of population.checkpoints) {
    context.log(`scale: ${target.title}, building ${subjects.toLocaleString("en-US")} active subjects`);
    const before = await target.bytes();
    const store = target.createStore(subjects);
    await activate(store, plan, context, subjects, target.inFlight);
    const bytesPerSubject = population.footprintAt.has(subjects)
      ? ((await target.bytes()) - before) / subjects
      : undefined;
    built.push({ subjects, store, bytesPerSubject });
  }
  context.log(`scale: ${target.title}, admission latency`);
  const results = await measureGroup(
    built.map(({ subjects, store }) => probeCase(rowIds.scale(target.id, subjects), store, plan, context, subjects)),
    "sequential",
    context.budget("sequential", target.budgetScale),
  );
  const first = built[0]!.subjects;
  const firstFootprint = built.find((entry) => entry.bytesPerSubject !== undefined)?.subjects;
  const rows: Row[] = [];
  for (const { subjects, store, bytesPerSubject } of built) {
    const id = rowIds.scale(target.id, subjects);
    const compare: Comparison[] = [];
    if (subjects !== first) {
      compare.push({ against: rowIds.scale(target.id, first), label: `${first.toLocaleString("en-US")} subjects` });
    }
    if (bytesPerSubject !== undefined && firstFootprint !== undefined && firstFootprint !== subjects) {
      compare.push({
        against: rowIds.scale(target.id, firstFootprint),
        label: `${firstFootprint.toLocaleString("en-US")} subjects`,
        metric: "bytesPerSubject",
      });
    }
    rows.push({
      ...measurementRow(
        {
          id,
          section: "scale",
          name: `${target.title}, 5-limit admission, ${subjects.toLocaleString("en-US")} active subjects`,
          compare,
        },
        "sequential",
        results.get(id)!,
      ),
      ...(bytesPerSubject === undefined ? {} : { bytesPerSubject }),
    });
    await store.close();
  }
  return rows;
}

/** V8 heap in use after a full collection (needs `--expose-gc`, which the bench script passes). */
async function heapUsed(): Promise<number> {
  const collect = globalThis.gc;
  if (collect === undefined) throw new Error("run with node --expose-gc (pnpm bench does)");
  // Two passes with a turn of the event loop between them, so objects freed by finalizers are gone too.
  collect();
  await new Promise((resolve) => setImmediate(resolve));
  collect();
  return process.memoryUsage().heapUsed;
}

async function redisScale(redis: Redis, context: BenchContext, population: Population): Promise<Row[]> {
  return measureScale(
    {
      id: "redis",
      title: "Redis store",
      createStore: (subjects) => createRedisStore(redis, { prefix: `${redisKeyTag(context)}-scale-${subjects}:` }),
      bytes: () => redisUsedMemory(redis),
      inFlight: IN_FLIGHT,
      budgetScale: 0.3,
    },
    context,
    population,
  );
}

export const footprint: Section = {
  name: "scale",
  async run(context: BenchContext): Promise<Row[]> {
    const population = context.quick ? quickPopulation : fullPopulation;
    const rows: Row[] = await measureScale(
      {
        id: "memory",
        title: "memory store",
        createStore: () => createMemoryStore(),
        bytes: heapUsed,
        inFlight: 1,
        budgetScale: 2,
      },
      context,
      population,
    );

    const redis = await connectRedis(context);
    try {
      rows.push(...(await redisScale(redis, context, population)));
    } finally {
      context.log(`scale: removed ${await cleanUpRedis(redis, context)} Redis keys`);
      redis.disconnect();
    }
    return rows;
  },
};
