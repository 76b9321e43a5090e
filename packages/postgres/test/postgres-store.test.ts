import { randomUUID } from "node:crypto";
import { type AdmitRequest, type AdmitResult, ConfigurationError, type CounterCharge } from "@tollgate/core";
import { describeStoreContract } from "@tollgate/testing/store-contract";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createPostgresStore, migrate, type PostgresStoreOptions } from "../src/index";
import { compareCodePoints } from "../src/internal/admit-request";
import {
  databaseUrl,
  failWithoutPostgresInCi,
  postgresVerdict,
  postgresVerdictForFile,
  probePostgres,
  uniqueSchema,
} from "./postgres-availability";

const { verdict, probe } = await postgresVerdictForFile();
const pools: pg.Pool[] = [];
/** Every schema this file creates; dropped at the end. */
const schemas: string[] = [];

function newPool(max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max });
  pool.on("error", () => undefined);
  pools.push(pool);
  return pool;
}

function newSchema(label: string, name = uniqueSchema(label)): string {
  schemas.push(name);
  return name;
}

const pool = verdict === "run" ? newPool() : undefined;
const durableSchema = newSchema("durable");
// A schema and a prefix that only work quoted: a dash, a space, a double quote and a dollar sign.
const oddSchema = newSchema("odd", `tollgate-test "odd" $x$ ${randomUUID().slice(0, 8)}`);
const oddPrefix = `p-"q"$tollgate$_`;
if (pool !== undefined) {
  await migrate(pool, { schema: durableSchema });
  await migrate(pool, { schema: oddSchema, tablePrefix: oddPrefix });
}

afterAll(async () => {
  if (verdict === "run") {
    const cleaner = newPool(1);
    const failures: unknown[] = [];
    for (const schema of schemas) {
      const dropping = cleaner.query(`DROP SCHEMA IF EXISTS "${schema.replaceAll('"', '""')}" CASCADE`);
      await dropping.catch((error: unknown) => failures.push(error));
    }
    if (failures.length > 0) console.warn("Some test schemas could not be dropped:", failures);
  }
  await Promise.all(pools.map((each) => each.end()));
});

describe("Postgres availability", () => {
  it("fails in CI when Postgres is unreachable instead of skipping, and skips with a message elsewhere", async () => {
    const unreachable = await probePostgres("postgres://nobody@127.0.0.1:1/none");
    expect(unreachable.reachable).toBe(false);
    expect(postgresVerdict(unreachable, true)).toBe("fail");
    expect(postgresVerdict(unreachable, false)).toBe("skip");
    expect(postgresVerdict({ reachable: true }, true)).toBe("run");
  });

  failWithoutPostgresInCi(verdict, probe);
});

describe("createPostgresStore options", () => {
  const fakePool = new pg.Pool({ connectionString: databaseUrl });
  pools.push(fakePool);

  it("validates its options, naming the field", () => {
    const invalid: [PostgresStoreOptions, RegExp][] = [
      [{ schema: "" }, /schema/],
      [{ schema: "a\u0000b" }, /schema/],
      [{ schema: "s".repeat(64) }, /schema/],
      [{ tablePrefix: "p".repeat(43) }, /tablePrefix/],
      [{ durability: "fast" as "relaxed" }, /durability/],
      [{ settleGraceMs: -1 }, /settleGraceMs/],
      [{ ledgerRetentionMs: 1.5 }, /ledgerRetentionMs/],
      [{ sweepIntervalMs: -5 }, /sweepIntervalMs/],
    ];
    for (const [options, field] of invalid) {
      expect(() => createPostgresStore(fakePool, options)).toThrow(ConfigurationError);
      expect(() => createPostgresStore(fakePool, options)).toThrow(field);
    }
    const store = createPostgresStore(fakePool, {
      schema: "s".repeat(63),
      tablePrefix: "p".repeat(42),
      durability: "relaxed",
      ledgerRetentionMs: Number.POSITIVE_INFINITY,
      sweepIntervalMs: 0,
    });
    expect(typeof store.admit).toBe("function");
  });

  it("accepts a pg Pool or a PGlite instance, and refuses a single pg Client", () => {
    const single = new pg.Client({ connectionString: databaseUrl });
    expect(() => createPostgresStore(single as never)).toThrow(/Pool/);
    expect(() => createPostgresStore({} as never)).toThrow(ConfigurationError);
  });
});

describe.runIf(verdict === "run")("Postgres store", () => {
  const shared = pool as pg.Pool;

  describeStoreContract("postgres (durable)", {
    createStore: () => createPostgresStore(shared, { schema: durableSchema }),
    createStoreWithAlertLogLimits: ({ maxEntries, retentionMs }) =>
      createPostgresStore(shared, {
        schema: durableSchema,
        alertLogMaxEntries: maxEntries,
        alertLogRetentionMs: retentionMs,
      }),
  });

  describeStoreContract("postgres (relaxed durability, quoted schema and prefix)", {
    createStore: () =>
      createPostgresStore(shared, { schema: oddSchema, tablePrefix: oddPrefix, durability: "relaxed" }),
    createStoreWithAlertLogLimits: ({ maxEntries, retentionMs }) =>
      createPostgresStore(shared, {
        schema: oddSchema,
        tablePrefix: oddPrefix,
        durability: "relaxed",
        alertLogMaxEntries: maxEntries,
        alertLogRetentionMs: retentionMs,
      }),
  });

  it("never runs DDL by itself: before migrate() every operation fails and says so, and nothing is created", async () => {
    const schema = newSchema("unmigrated");
    const store = createPostgresStore(shared, { schema, sweepIntervalMs: 0 });
    await expect(store.admit(request([sliding("x", 1, 10)]))).rejects.toThrow(/run migrate\(\) first/);
    await expect(store.markOnce("marker", 1_000)).rejects.toThrow(/version 0/);
    const found = await shared.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]);
    expect(found.rows).toEqual([]);
    expect(await store.migrate()).toEqual({ applied: [1, 2, 3], version: 3 });
    expect(await store.admit(request([sliding("x", 1, 10)]))).toMatchObject({ admitted: true, usedAfter: [1] });
  });

  it("migrates idempotently, and 5 concurrent migrate() calls on a fresh schema all succeed once", async () => {
    const schema = newSchema("parallel");
    const migrators = Array.from({ length: 5 }, () => newPool(2));
    const results = await Promise.all(migrators.map((each) => migrate(each, { schema })));
    expect(results.map((result) => result.applied).sort()).toEqual([[], [], [], [], [1, 2, 3]]);
    expect(results.every((result) => result.version === 3)).toBe(true);
    expect(await migrate(shared, { schema })).toEqual({ applied: [], version: 3 });
    const versions = await shared.query(`SELECT version FROM "${schema}".tollgate_schema_migrations ORDER BY version`);
    expect(versions.rows).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }]);
    // A second prefix in the same schema is a separate store with its own tables.
    expect(await migrate(shared, { schema, tablePrefix: "other_" })).toEqual({ applied: [1, 2, 3], version: 3 });
    const store = createPostgresStore(shared, { schema, tablePrefix: "other_", sweepIntervalMs: 0 });
    expect(await store.admit(request([sliding("p", 1, 1)]))).toMatchObject({ admitted: true });
  });

  it("upgrades a version-2 ledger by running migrate() again: old rows stay, new ones count once per call id", async () => {
    const schema = newSchema("upgrade");
    await migrate(shared, { schema });
    const before = createPostgresStore(shared, { schema, sweepIntervalMs: 0 });
    await before.record(usageRecord(Date.now() - 60_000));
    // Back to version 2 (migration 3 only adds the call_id column and its unique index): a ledger of an older release.
    await shared.query(`ALTER TABLE "${schema}".tollgate_usage DROP COLUMN call_id`);
    await shared.query(`DELETE FROM "${schema}".tollgate_schema_migrations WHERE version = 3`);
    const store = createPostgresStore(shared, { schema, sweepIntervalMs: 0 });
    const record = { ...usageRecord(Date.now()), id: randomUUID() };
    await expect(store.record(record)).rejects.toThrow(/version 2, and this version .* needs 3: run migrate\(\) first/);
    expect(await store.migrate()).toEqual({ applied: [3], version: 3 });
    await Promise.all([store.record(record), store.record(record)]);
    await store.record(record);
    await store.record(usageRecord(Date.now()));
    expect((await store.queryUsage({})).map((row) => row.requests)).toEqual([3]);
    const rows = await shared.query(`SELECT call_id FROM "${schema}".tollgate_usage ORDER BY id`);
    expect(rows.rows).toEqual([{ call_id: null }, { call_id: record.id }, { call_id: null }]);
  });

  it("keeps quoted identifiers literal: the odd schema holds exactly the prefixed objects", async () => {
    const tables = await shared.query(
      'SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename COLLATE "C"',
      [oddSchema],
    );
    expect(tables.rows.map((row: { tablename: string }) => row.tablename)).toEqual(
      ["alerts", "blocks", "counters", "leases", "markers", "reservations", "schema_migrations", "usage"].map(
        (name) => `${oddPrefix}${name}`,
      ),
    );
    const functions = await shared.query(
      "SELECT proname FROM pg_proc WHERE pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1) ORDER BY 1",
      [oddSchema],
    );
    expect(functions.rows.map((row: { proname: string }) => row.proname).sort()).toEqual(
      ["admit", "extend_lease", "settle", "sweep"].map((name) => `${oddPrefix}${name}`).sort(),
    );
  });

  it("sends one statement per admission, settle and extendLease, however many limits", async () => {
    const counting = countingPool(shared);
    const store = createPostgresStore(counting.pool, { schema: durableSchema, sweepIntervalMs: 0 });
    const charges = [
      sliding(`one-trip-a:${randomUUID()}`, 1, 1_000),
      sliding(`one-trip-b:${randomUUID()}`, 5, 1_000),
      {
        ...fixedCharge(`one-trip-c:${randomUUID()}`, 1, 1_000),
        window: { kind: "fixed", endsAt: Date.now() + 3_600_000 },
      },
      concurrencyCharge(`one-trip-d:${randomUUID()}`, 1_000),
    ] satisfies CounterCharge[];
    await store.admit(request([])); // the one-time schema check
    counting.statements.length = 0;
    for (let call = 0; call < 10; call++) {
      const reservationId = randomUUID();
      const result = await store.admit({ ...request(charges, ["block|global", "block|user:u1"]), reservationId });
      expect(result.admitted).toBe(true);
      expect(await store.extendLease(reservationId, 60_000)).toBe(true);
      await store.settle({ reservationId, amounts: [1, 3, 1, 1] });
    }
    expect(counting.statements).toHaveLength(30);
    expect(new Set(counting.statements.map((text) => text.match(/"tollgate_(\w+)"\(/)?.[1]))).toEqual(
      new Set(["admit", "extend_lease", "settle"]),
    );
  });

  it("a refusal writes nothing, not even the refused call's new counters; the sweep deletes expired rows", async () => {
    const schema = newSchema("sweep");
    await migrate(shared, { schema });
    const store = createPostgresStore(shared, { schema, sweepIntervalMs: 0, settleGraceMs: 0 });
    const full = sliding(`full:${randomUUID()}`, 1, 1);
    expect((await store.admit(request([full]))).admitted).toBe(true);
    const fresh = sliding(`fresh:${randomUUID()}`, 1, 10);
    expect((await store.admit(request([fresh, full]))).admitted).toBe(false);
    const counters = await shared.query(
      `SELECT key, slot_amounts, expires_at FROM "${schema}".tollgate_counters ORDER BY key COLLATE "C"`,
    );
    const rows = counters.rows as { key: string; slot_amounts: string[]; expires_at: string }[];
    // Refused on the snapshot check, before any lock or insert.
    expect(rows.map((row) => [row.key.split(":")[2], row.slot_amounts])).toEqual([["full", ["1"]]]);
    // Short windows and leases, then a sweep: every expired row goes, live ones stay.
    const shortSliding = {
      ...sliding(`short:${randomUUID()}`, 2, 10),
      window: { kind: "sliding", windowMs: 200, slots: 2 },
    } as const;
    const shortFixed = {
      ...fixedCharge(`short-fixed:${randomUUID()}`, 3, 10),
      window: { kind: "fixed", endsAt: Date.now() + 200 },
    } as const;
    const shortSlot = concurrencyCharge(`short-slot:${randomUUID()}`, 5);
    await store.admit({ ...request([shortSliding, shortFixed, shortSlot]), leaseMs: 200 });
    expect(await store.markOnce(`short-marker:${randomUUID()}`, 200)).toBe(true);
    await store.block({
      key: `short-block:${randomUUID()}`,
      reason: undefined,
      until: Date.now() + 200,
      createdAt: Date.now(),
    });
    await store.block({ key: `open-block:${randomUUID()}`, reason: "kept", until: undefined, createdAt: Date.now() });
    await sleep(500);
    const swept = await store.sweep();
    expect(swept).toMatchObject({ counters: 3, leases: 1, reservations: 1, markers: 1, blocks: 1, skipped: false });
    const left = await shared.query(`SELECT key FROM "${schema}".tollgate_counters`);
    expect(left.rows.map((row: { key: string }) => row.key.split(":")[2])).toEqual(["full"]);
    expect(await store.listBlocked()).toHaveLength(1);
    expect(await store.sweep()).toEqual({
      counters: 0,
      leases: 0,
      reservations: 0,
      markers: 0,
      blocks: 0,
      usage: 0,
      skipped: false,
    });
  });

  it("sweeps the ledger past its retention, and a concurrent sweep of the same store is skipped", async () => {
    const schema = newSchema("retention");
    await migrate(shared, { schema });
    const store = createPostgresStore(shared, { schema, sweepIntervalMs: 0, ledgerRetentionMs: 86_400_000 });
    const now = Date.now();
    for (const time of [now - 3 * 86_400_000, now - 2 * 86_400_000, now - 1_000]) {
      await store.record(usageRecord(time));
    }
    const holder = await shared.connect();
    try {
      await holder.query("BEGIN");
      await holder.query(`SELECT "${schema}".tollgate_sweep(1000, NULL)`);
      expect(await store.sweep()).toMatchObject({ skipped: true });
      await holder.query("COMMIT");
    } finally {
      holder.release();
    }
    expect(await store.sweep()).toMatchObject({ usage: 2, skipped: false });
    expect((await store.queryUsage({})).map((row) => row.requests)).toEqual([1]);
  });

  it("runs the sweep in the background every sweepIntervalMs, and close() stops it", async () => {
    const schema = newSchema("background");
    await migrate(shared, { schema });
    const errors: Error[] = [];
    const store = createPostgresStore(shared, {
      schema,
      sweepIntervalMs: 100,
      onSweepError: (error) => errors.push(error),
    });
    await store.admit({ ...request([concurrencyCharge(`bg:${randomUUID()}`, 1)]), leaseMs: 50 });
    await sleep(400);
    const left = await shared.query(`SELECT count(*)::int AS rows FROM "${schema}".tollgate_leases`);
    expect(left.rows).toEqual([{ rows: 0 }]);
    await store.close();
    expect(errors).toEqual([]);
    const broken = createPostgresStore(shared, {
      schema: newSchema("never-migrated"),
      sweepIntervalMs: 50,
      onSweepError: (error) => errors.push(error),
    });
    await sleep(200);
    await broken.close();
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]?.message).toMatch(/run migrate\(\) first/);
  });

  it("orders counter keys for locking exactly as Postgres' C collation does", async () => {
    const keys = ["b", "a", "\u{1F600}", "\uFFFF", "é", "e", "Z", "a|b", "a:b", "\u00e9\u0301", "", 'a"b', "a\\b"];
    const server = await shared.query(
      `SELECT array_agg(key ORDER BY key COLLATE "C") AS sorted FROM unnest($1::text[]) AS key`,
      [keys],
    );
    expect([...keys].sort(compareCodePoints)).toEqual(server.rows[0].sorted);
    expect([...keys].sort()).not.toEqual(server.rows[0].sorted);
  });

  it("queries the ledger to the millisecond, with where and groupBy on every scope", async () => {
    const schema = newSchema("ledger");
    await migrate(shared, { schema });
    const store = createPostgresStore(shared, { schema, sweepIntervalMs: 0 });
    const base = Date.UTC(2026, 0, 5, 23, 59, 59, 998);
    await store.record({ ...usageRecord(base), user: "u1", ip: "10.0.0.1", key: "k1", tenant: "t1", costNanoUsd: 7 });
    await store.record({ ...usageRecord(base + 2), user: "u1", session: "s1", costNanoUsd: 5, status: "error" });
    await store.record({ ...usageRecord(base + 3), user: "u2", estimated: true, costNanoUsd: 5 });
    const byDay = await store.queryUsage({ groupBy: ["day", "user"] });
    expect(byDay.map((row) => [row.group, row.requests, row.costNanoUsd])).toEqual([
      [{ day: "2026-01-05", user: "u1" }, 1, 7],
      [{ day: "2026-01-06", user: "u1" }, 1, 5],
      [{ day: "2026-01-06", user: "u2" }, 1, 5],
    ]);
    expect(await store.queryUsage({ since: base + 2, until: base + 3 })).toMatchObject([
      { group: {}, requests: 1, costNanoUsd: 5, errorRequests: 1, estimatedRequests: 0 },
    ]);
    for (const where of [{ ip: "10.0.0.1" }, { key: "k1" }, { tenant: "t1" }, { provider: "openai", user: "u1" }]) {
      expect((await store.queryUsage({ where })).map((row) => row.requests)).toEqual([where.provider ? 2 : 1]);
    }
    // With the planner kept off sequential scans (the table is tiny), the queries find their indexes.
    const connection = await shared.connect();
    try {
      await connection.query("SET enable_seqscan = off");
      const plans: string[] = [];
      for (const [where, values] of [
        ["subject_user = $1", ["u1"]],
        ["subject_tenant = $1", ["t1"]],
        ["true", []],
      ] as const) {
        const statement = `EXPLAIN SELECT sum(cost_nano_usd) FROM "${schema}".tollgate_usage
          WHERE ${where} AND time >= to_timestamp($${values.length + 1}::double precision / 1000)`;
        plans.push(JSON.stringify((await connection.query(statement, [...values, base])).rows));
      }
      expect(plans[0]).toMatch(/tollgate_usage_user_time_idx/);
      expect(plans[1]).toMatch(/tollgate_usage_tenant_time_idx/);
      expect(plans[2]).toMatch(/tollgate_usage_time_idx/);
    } finally {
      await connection.query("RESET enable_seqscan");
      connection.release();
    }
  });

  it("never deadlocks: 400 concurrent admissions, settlements and lease extensions over overlapping keys in random order, with sweeps", async () => {
    const store = createPostgresStore(shared, { schema: durableSchema, sweepIntervalMs: 0 });
    const run = randomUUID();
    const endsAt = Date.now() + 3_600_000;
    // Keys that JavaScript's UTF-16 order and Postgres' C (code point) order sort differently.
    const keys: CounterCharge[] = [
      sliding(`mesh:${run}:\uFFFF`, 1, 1e12),
      sliding(`mesh:${run}:\u{1F600}`, 1, 1e12),
      { ...fixedCharge(`mesh:${run}:\uFFFF`, 1, 1e12), window: { kind: "fixed", endsAt } },
      { ...fixedCharge(`mesh:${run}:\u{1F600}`, 1, 1e12), window: { kind: "fixed", endsAt } },
      concurrencyCharge(`mesh-e:${run}`, 1e6),
      concurrencyCharge(`mesh-f:${run}`, 1e6),
    ];
    const trueTotals = new Map<string, number>();
    const operations = Array.from({ length: 400 }, async (_, index) => {
      const chosen = shuffled(keys).slice(0, 2 + (index % 5));
      const charges = chosen.map((charge) => ({ ...charge, amount: 1 + (index % 7) }));
      const reservationId = randomUUID();
      const result = await store.admit({ ...request(charges), reservationId });
      expect(result.admitted).toBe(true);
      if (index % 3 === 0) expect(await store.extendLease(reservationId, 60_000)).toBe(true);
      const amounts = charges.map((_, position) => (index + position) % 11);
      charges.forEach((charge, position) => {
        const counter = `${charge.window.kind}:${charge.key}`;
        trueTotals.set(counter, (trueTotals.get(counter) ?? 0) + (amounts[position] ?? 0));
      });
      await store.settle({ reservationId, amounts });
      if (index % 50 === 0) await store.sweep();
    });
    await Promise.all(operations);
    for (const charge of keys) {
      if (charge.window.kind === "concurrency") {
        expect(await usage(store, charge)).toBe(0);
      } else {
        expect(await usage(store, charge)).toBe(trueTotals.get(`${charge.window.kind}:${charge.key}`) ?? 0);
      }
    }
  }, 60_000);
});

function request(charges: CounterCharge[], blockKeys: string[] = []): AdmitRequest {
  return { reservationId: randomUUID(), charges, blockKeys, leaseMs: 60_000 };
}

function sliding(key: string, amount: number, capacity: number): CounterCharge {
  return { key, amount, capacity, enforce: true, window: { kind: "sliding", windowMs: 60_000, slots: 10 } };
}

function fixedCharge(key: string, amount: number, capacity: number): CounterCharge {
  return { key, amount, capacity, enforce: true, window: { kind: "fixed", endsAt: Date.now() + 3_600_000 } };
}

function concurrencyCharge(key: string, capacity: number): CounterCharge {
  return { key, amount: 1, capacity, enforce: true, window: { kind: "concurrency" } };
}

function usageRecord(time: number) {
  return {
    time,
    provider: "openai" as const,
    model: "gpt-4o-mini",
    operation: "openai.chat" as const,
    inputTokens: 10,
    cachedInputTokens: 0,
    cacheWriteInputTokens: 0,
    outputTokens: 5,
    reasoningTokens: 0,
    costNanoUsd: 100,
    estimated: false,
    status: "ok" as const,
    latencyMs: 12,
  };
}

/** A Pool stand-in that records the text of every statement it sends (one statement = one round trip). */
function countingPool(target: pg.Pool): { pool: pg.Pool; statements: string[] } {
  const statements: string[] = [];
  const pool = new Proxy(target, {
    get(object, property, receiver) {
      if (property === "query") {
        return (text: string, values?: unknown[]) => {
          statements.push(text);
          return object.query(text, values);
        };
      }
      const value: unknown = Reflect.get(object, property, receiver);
      return typeof value === "function" ? value.bind(object) : value;
    },
  });
  return { pool, statements };
}

/** Current usage of a counter, via a dry run of a zero charge. */
async function usage(store: { admit(request: AdmitRequest): Promise<AdmitResult> }, charge: CounterCharge) {
  const result = await store.admit({ ...request([{ ...charge, amount: 0 }]), dryRun: true });
  if (!result.admitted) throw new Error("expected a dry run to fit");
  return result.usedAfter[0];
}

function shuffled<Item>(items: readonly Item[]): Item[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(Math.random() * (index + 1));
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy;
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
