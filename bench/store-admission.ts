// Store admission and settlement with 1 and 5 limits per call, sequential and 64 in flight, on every store; beside
// the floor of each server (one raw EVALSHA, one SELECT 1) and beside rate-limiter-flexible on the same servers.
// The cases of one backend run interleaved round by round, so their ratios share the machine's noise.
import { PGlite } from "@electric-sql/pglite";
import { createMemoryStore, type TollgateStore } from "@tollgate/core";
import { createPostgresStore, migrate, type PostgresClient, type PostgresStore } from "@tollgate/postgres";
import { createRedisStore } from "@tollgate/redis";
import type { Redis } from "ioredis";
import type pg from "pg";
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterPostgres,
  RateLimiterRedis,
  RateLimiterUnion,
} from "rate-limiter-flexible";
import { admissions, type ChargePlan, type LimitCount, perMinutePlan, settleRequest } from "./charges";
import type { BenchContext, Section } from "./context";
import { type BenchCase, type Mode, measureGroup } from "./harness";
import { type Comparison, measurementRow, type Row } from "./report";
import {
  cleanUpRedis,
  connectRedis,
  createSchema,
  dropSchema,
  postgresPool,
  postgresSchema,
  redisKeyTag,
} from "./servers";
import { rowIds } from "./targets";

/** Subjects the calls rotate over: 1,000 users (and as many IPs), none of them hot. */
const subjects = 1_000;

interface CaseSpec {
  variant: string;
  name: string;
  run: () => Promise<unknown>;
  after?: () => Promise<unknown>;
  cpuBound?: boolean;
  compare?: Comparison[];
}

interface Backend {
  id: string;
  title: string;
  cases: CaseSpec[];
  /** Multiplies the budget: microsecond cases get more calls, millisecond ones fewer. */
  scale: number;
  /** Server CPU per call of a case (µs), measured after the timed rounds, for the rows' notes. */
  serverCost?: (spec: CaseSpec, calls: number) => Promise<number>;
}

const limiterDurations = {
  "user-rpm": 60,
  "user-tpm": 60,
  "ip-rpm": 60,
  "user-daily-tokens": 86_400,
  "user-daily-usd": 86_400,
} as const;
type LimiterName = keyof typeof limiterDurations;
const limiterNames = Object.keys(limiterDurations) as LimiterName[];

/** Nothing is ever refused: every call does the full work. */
const peerPoints = 1_000_000_000;

/** Calls rotate over the subjects; each case has its own sequence. */
function rotation(): () => number {
  let next = 0;
  return () => next++ % subjects;
}

let reservationSequence = 0;

/** Settles the given reservations, 64 at a time. */
async function settleAll(store: TollgateStore, count: LimitCount, reservationIds: string[]): Promise<void> {
  for (let start = 0; start < reservationIds.length; start += 64) {
    const batch = reservationIds.slice(start, start + 64);
    await Promise.all(batch.map((id) => store.settle(settleRequest(count, id))));
  }
}

/**
 * Admission only, and admission followed by settlement, with 1 and 5 limits; with 5, also the check alone (the
 * read half of an admission, which is what `guard.check()` sends). The admission-only case settles its
 * reservations off the clock (harness `after`), so the store stays in the steady state of a real deployment, where
 * every admitted call is settled, instead of piling up millions of open reservations.
 */
function tollgateCases(
  store: TollgateStore,
  plan: ChargePlan,
  context: BenchContext,
  floor: Comparison[],
  cpuBound: boolean,
): CaseSpec[] {
  const specs: CaseSpec[] = [];
  for (const count of [1, 5] as const satisfies readonly LimitCount[]) {
    const admission = admissions(plan, count, subjects);
    const peer: Comparison = {
      against: count === 1 ? "rlf-1" : "rlf-union5",
      label: count === 1 ? "rlf" : "Union×5",
    };
    const admitSubject = rotation();
    let open: string[] = [];
    specs.push({
      variant: `tollgate-${count}-admit`,
      name: `Tollgate admit, ${count} limit${count === 1 ? "" : "s"}`,
      cpuBound,
      compare: [...floor, peer],
      run: async () => {
        const id = `${context.runId}-${++reservationSequence}`;
        const result = await store.admit(admission(admitSubject(), id));
        if (!result.admitted) throw new Error(`bench admission refused: ${JSON.stringify(result.refusal)}`);
        open.push(id);
      },
      after: () => {
        const settling = open;
        open = [];
        return settleAll(store, count, settling);
      },
    });
    if (count === 5) {
      const checkSubject = rotation();
      specs.push({
        variant: "tollgate-5-check",
        name: "Tollgate check only (dryRun, as guard.check), 5 limits",
        cpuBound,
        compare: floor,
        run: async () => {
          const result = await store.admit({ ...admission(checkSubject(), "check"), dryRun: true });
          if (!result.admitted) throw new Error(`bench check refused: ${JSON.stringify(result.refusal)}`);
        },
      });
    }
    const cycleSubject = rotation();
    specs.push({
      variant: `tollgate-${count}-cycle`,
      name: `Tollgate admit + settle, ${count} limit${count === 1 ? "" : "s"}`,
      cpuBound,
      compare: floor,
      run: async () => {
        const id = `${context.runId}-${++reservationSequence}`;
        const result = await store.admit(admission(cycleSubject(), id));
        if (!result.admitted) throw new Error(`bench admission refused: ${JSON.stringify(result.refusal)}`);
        await store.settle(settleRequest(count, id));
      },
    });
  }
  return specs;
}

/** rate-limiter-flexible: one limiter (requests per minute), and a RateLimiterUnion of the same five limits. */
function peerCases(
  label: string,
  create: (name: LimiterName) => RateLimiterAbstract,
  floor: Comparison[],
  cpuBound: boolean,
): CaseSpec[] {
  const single = create("user-rpm");
  const union = new RateLimiterUnion(...limiterNames.map(create));
  const singleSubject = rotation();
  const unionSubject = rotation();
  return [
    {
      variant: "rlf-1",
      name: `rate-limiter-flexible ${label}, 1 limit`,
      cpuBound,
      compare: floor,
      run: () => single.consume(`u${singleSubject()}`),
    },
    {
      variant: "rlf-union5",
      name: `rate-limiter-flexible RateLimiterUnion of 5 ${label}`,
      cpuBound,
      compare: floor,
      run: () => union.consume(`u${unionSubject()}`),
    },
  ];
}

/** Resolves once a RateLimiterPostgres has created its table. */
function postgresLimiter(pool: pg.Pool, schema: string, table: string, duration: number): Promise<RateLimiterPostgres> {
  return new Promise((resolve, reject) => {
    const limiter: RateLimiterPostgres = new RateLimiterPostgres(
      {
        storeClient: pool,
        storeType: "pool",
        schemaName: schema,
        tableName: table,
        keyPrefix: table,
        points: peerPoints,
        duration,
        clearExpiredByTimeout: false,
      },
      (error?: Error) => (error ? reject(error) : resolve(limiter)),
    );
  });
}

/** Microseconds Redis spent per command, summed over every command but INFO (`INFO commandstats`). */
async function redisCommandMicros(redis: Redis): Promise<number> {
  const stats = await redis.info("commandstats");
  let micros = 0;
  for (const match of stats.matchAll(/^cmdstat_([^:]+):.*?usec=(\d+)/gm)) {
    if (match[1] !== "info") micros += Number(match[2]);
  }
  return micros;
}

/** Redis CPU per call of a case: its calls run alone, sequentially, between two readings of the command stats. */
async function redisCpuPerCall(redis: Redis, spec: CaseSpec, calls: number): Promise<number> {
  const before = await redisCommandMicros(redis);
  for (let call = 0; call < calls; call++) await spec.run();
  const micros = (await redisCommandMicros(redis)) - before;
  await spec.after?.();
  return micros / calls;
}

async function loadRedisScript(redis: Redis, source: string): Promise<string> {
  const sha = await redis.script("LOAD", source);
  if (typeof sha !== "string") throw new Error("SCRIPT LOAD returned no sha");
  return sha;
}

/** A one-key limiter in its simplest form: count and (re)arm the expiry. */
const incrementScript =
  "local value = redis.call('INCRBY', KEYS[1], ARGV[1]) redis.call('PEXPIRE', KEYS[1], ARGV[2]) return value";

/**
 * The least work a 5-limit admission with Tollgate's guarantees does inside Redis, as a floor for the real one: the
 * server clock, a reservation record (idempotent settlement, leases), the block check, a read of each counter and one
 * write to each. Nothing is parsed, computed or formatted: constants stand for the slot, the amounts and the TTLs.
 * KEYS: record, 3 block keys, 3 window hashes, 2 period counters.
 */
const leastAdmissionScript = `
local time = redis.call('TIME')
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', 60000) then return 0 end
redis.call('MGET', KEYS[2], KEYS[3], KEYS[4])
for index = 5, 7 do redis.call('HMGET', KEYS[index], 't', 'o', '1') end
for index = 8, 9 do redis.call('GET', KEYS[index]) end
for index = 5, 7 do redis.call('HINCRBY', KEYS[index], '1', 1) end
for index = 8, 9 do redis.call('INCRBY', KEYS[index], 1000) end
return 1`;

/** Keys of the least admission for one subject and call, under the run's tag (the cleanup finds them). */
function leastAdmissionKeys(tag: string, subject: number, call: number): string[] {
  const root = `{${tag}:least}`;
  const user = `u${subject}`;
  return [
    `${root}reservation:${call}`,
    `${root}block:global`,
    `${root}block:user:${user}`,
    `${root}block:ip:${subject}`,
    `${root}window:user-rpm:${user}`,
    `${root}window:user-tpm:${user}`,
    `${root}window:ip-rpm:${subject}`,
    `${root}fixed:user-daily-tokens:${user}`,
    `${root}fixed:user-daily-usd:${user}`,
  ];
}

async function redisBackend(redis: Redis, context: BenchContext, plan: ChargePlan): Promise<Backend> {
  const tag = redisKeyTag(context);
  const returnOne = await loadRedisScript(redis, "return 1");
  const increment = await loadRedisScript(redis, incrementScript);
  const leastAdmission = await loadRedisScript(redis, leastAdmissionScript);
  const leastSubject = rotation();
  let leastCall = 0;
  const floorSubject = rotation();
  const floor: Comparison[] = [
    { against: "floor-incr", label: "EVALSHA INCRBY" },
    { against: "floor-return1", label: "EVALSHA return 1" },
  ];
  const store = createRedisStore(redis, { prefix: `${tag}:` });
  return {
    id: "redis",
    title: "Redis",
    scale: 1,
    serverCost: (spec, calls) => redisCpuPerCall(redis, spec, calls),
    cases: [
      { variant: "floor-return1", name: "floor: EVALSHA `return 1`", run: () => redis.evalsha(returnOne, 0) },
      {
        variant: "floor-incr",
        name: "floor: EVALSHA INCRBY+PEXPIRE, 1 key",
        run: () => redis.evalsha(increment, 1, `${tag}:floor:u${floorSubject()}`, 1, 60_000),
      },
      {
        variant: "floor-least-5",
        name: "floor: the least 5-limit admission script (clock, record, blocks, 5 reads, 5 writes; nothing parsed)",
        compare: floor,
        run: () => redis.evalsha(leastAdmission, 9, ...leastAdmissionKeys(tag, leastSubject(), ++leastCall)),
      },
      ...tollgateCases(store, plan, context, floor, false),
      ...peerCases(
        "RateLimiterRedis",
        (name) =>
          new RateLimiterRedis({
            storeClient: redis,
            keyPrefix: `${tag}-rlf-${name}`,
            points: peerPoints,
            duration: limiterDurations[name],
          }),
        floor,
        false,
      ),
    ],
  };
}

function memoryBackend(context: BenchContext, plan: ChargePlan): Backend {
  return {
    id: "memory",
    title: "memory",
    scale: 10,
    cases: [
      ...tollgateCases(createMemoryStore(), plan, context, [], true),
      ...peerCases(
        "RateLimiterMemory",
        (name) => new RateLimiterMemory({ keyPrefix: name, points: peerPoints, duration: limiterDurations[name] }),
        [],
        true,
      ),
    ],
  };
}

/** A migrated Tollgate Postgres store in this run's schema. */
async function tollgatePostgresStore(
  client: PostgresClient,
  context: BenchContext,
  durability: "durable" | "relaxed",
): Promise<PostgresStore> {
  const schema = postgresSchema(context);
  await migrate(client, { schema });
  return createPostgresStore(client, { schema, durability });
}

async function postgresBackend(
  pool: pg.Pool,
  relaxed: boolean,
  context: BenchContext,
  plan: ChargePlan,
  stores: TollgateStore[],
): Promise<Backend> {
  const schema = postgresSchema(context);
  const floor: Comparison[] = [{ against: "floor-select1", label: "SELECT 1" }];
  const limiters = new Map<LimiterName, RateLimiterPostgres>();
  // Created one after the other: concurrent CREATE TABLE IF NOT EXISTS races on the catalog.
  for (const name of limiterNames) {
    const table = `rlf_${relaxed ? "relaxed" : "durable"}_${name.replaceAll("-", "_")}`;
    limiters.set(name, await postgresLimiter(pool, schema, table, limiterDurations[name]));
  }
  const store = await tollgatePostgresStore(pool, context, relaxed ? "relaxed" : "durable");
  stores.push(store);
  return {
    id: relaxed ? "postgres-relaxed" : "postgres-durable",
    title: relaxed ? "Postgres, synchronous_commit=off" : "Postgres, durable",
    scale: 0.3,
    cases: [
      { variant: "floor-select1", name: "floor: SELECT 1", run: () => pool.query("SELECT 1") },
      ...tollgateCases(store, plan, context, floor, false),
      ...peerCases("RateLimiterPostgres", (name) => limiters.get(name)!, floor, false),
    ],
  };
}

async function pgliteBackend(
  lite: PGlite,
  context: BenchContext,
  plan: ChargePlan,
  stores: TollgateStore[],
): Promise<Backend> {
  const floor: Comparison[] = [{ against: "floor-select1", label: "SELECT 1" }];
  const store = await tollgatePostgresStore(lite, context, "durable");
  stores.push(store);
  return {
    id: "pglite",
    title: "PGlite (in process, in memory)",
    scale: 0.5,
    cases: [
      { variant: "floor-select1", name: "floor: SELECT 1", run: () => lite.query("SELECT 1") },
      ...tollgateCases(store, plan, context, floor, false),
    ],
  };
}

async function measureBackend(backend: Backend, context: BenchContext): Promise<Row[]> {
  const rows: Row[] = [];
  for (const mode of ["sequential", "concurrent"] as const satisfies readonly Mode[]) {
    context.log(`store admission: ${backend.title}, ${mode} (${backend.cases.length} cases)`);
    const cases: BenchCase[] = backend.cases.map((spec) => ({
      id: rowIds.store(backend.id, spec.variant, mode),
      run: spec.run,
      ...(spec.after === undefined ? {} : { after: spec.after }),
      ...(spec.cpuBound === true ? { cpuBound: true } : {}),
    }));
    const results = await measureGroup(cases, mode, context.budget(mode, backend.scale));
    for (const spec of backend.cases) {
      const id = rowIds.store(backend.id, spec.variant, mode);
      const serverUs =
        mode === "sequential" && backend.serverCost !== undefined
          ? await backend.serverCost(spec, context.quick ? 100 : 2_000)
          : undefined;
      rows.push(
        measurementRow(
          {
            id,
            section: `store: ${backend.title}`,
            name: spec.name,
            compare: (spec.compare ?? []).map((comparison) => ({
              ...comparison,
              against: rowIds.store(backend.id, comparison.against, mode),
            })),
            ...(serverUs === undefined
              ? {}
              : { serverUsPerCall: serverUs, note: `Redis CPU ${serverUs.toFixed(1)} µs/call` }),
          },
          mode,
          results.get(id)!,
        ),
      );
    }
  }
  return rows;
}

export const storeAdmission: Section = {
  name: "store",
  async run(context: BenchContext): Promise<Row[]> {
    const plan = perMinutePlan();
    const rows: Row[] = [];
    rows.push(...(await measureBackend(memoryBackend(context, plan), context)));

    const redis = await connectRedis(context);
    try {
      rows.push(...(await measureBackend(await redisBackend(redis, context, plan), context)));
    } finally {
      context.log(`store admission: removed ${await cleanUpRedis(redis, context)} Redis keys`);
      redis.disconnect();
    }

    for (const relaxed of [false, true]) {
      const pool = postgresPool(context, relaxed);
      const stores: TollgateStore[] = [];
      try {
        await createSchema(pool, context);
        rows.push(...(await measureBackend(await postgresBackend(pool, relaxed, context, plan, stores), context)));
      } finally {
        for (const store of stores) await store.close();
        await dropSchema(pool, context);
        await pool.end();
      }
    }

    const lite = await PGlite.create();
    const stores: TollgateStore[] = [];
    try {
      rows.push(...(await measureBackend(await pgliteBackend(lite, context, plan, stores), context)));
    } finally {
      for (const store of stores) await store.close();
      await lite.close();
    }
    return rows;
  },
};
