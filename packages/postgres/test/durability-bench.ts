// Measures the store's two durability modes on the server at DATABASE_URL (not a test: `pnpm --filter
// @tollgate/postgres bench`). Each call admits and settles three limits of one of 1,000 users (requests/min and
// tokens/min sliding, USD/day fixed), settling tokens below the reservation so settle writes too.
import { randomUUID } from "node:crypto";
import type { CounterCharge, TollgateStore } from "@tollgate/core";
import pg from "pg";
import { createPostgresStore, migrate } from "../src/index";
import { databaseUrl, uniqueSchema } from "./postgres-availability";

const sequentialCalls = Number(process.env.BENCH_SEQUENTIAL ?? 3_000);
const concurrentCalls = Number(process.env.BENCH_CONCURRENT ?? 20_000);
const inFlight = 64;
const users = 1_000;

const pool = new pg.Pool({ connectionString: databaseUrl, max: 16 });
const schema = uniqueSchema("bench");
await migrate(pool, { schema });
const endsAt = Date.now() + 86_400_000;
let sequence = 0;

function charges(user: number): CounterCharge[] {
  return [
    {
      key: `rpm|user:${user}`,
      amount: 1,
      capacity: 1e12,
      enforce: true,
      window: { kind: "sliding", windowMs: 60_000, slots: 10 },
    },
    {
      key: `tpm|user:${user}`,
      amount: 1_000,
      capacity: 1e12,
      enforce: true,
      window: { kind: "sliding", windowMs: 60_000, slots: 10 },
    },
    { key: `usd-day|user:${user}`, amount: 50_000, capacity: 1e15, enforce: true, window: { kind: "fixed", endsAt } },
  ];
}

const hotKey = `global-rpm:${randomUUID()}`;
function hotCharges(): CounterCharge[] {
  return [
    { key: hotKey, amount: 1, capacity: 1e12, enforce: true, window: { kind: "sliding", windowMs: 60_000, slots: 10 } },
  ];
}

async function call(store: TollgateStore, timings?: { admit: number[]; settle: number[] }, hot = false): Promise<void> {
  const user = sequence++ % users;
  const reservationId = randomUUID();
  const started = performance.now();
  const result = await store.admit({
    reservationId,
    charges: hot ? hotCharges() : charges(user),
    blockKeys: ["block|global", `block|user:${user}`],
    leaseMs: 60_000,
  });
  const admitted = performance.now();
  if (!result.admitted) throw new Error("refused");
  await store.settle({ reservationId, amounts: hot ? [1] : [1, 300, 15_000] });
  const settled = performance.now();
  timings?.admit.push((admitted - started) * 1_000);
  timings?.settle.push((settled - admitted) * 1_000);
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? 0);
}

async function refusedP50(store: TollgateStore): Promise<number> {
  // A full limit: refused on the snapshot check, without a lock or a write.
  const full: CounterCharge = {
    key: `full:${randomUUID()}`,
    amount: 1,
    capacity: 1,
    enforce: true,
    window: { kind: "sliding", windowMs: 60_000, slots: 10 },
  };
  await store.admit({ reservationId: randomUUID(), charges: [full], blockKeys: [], leaseMs: 60_000 });
  const times: number[] = [];
  for (let index = 0; index < 2_000; index++) {
    const started = performance.now();
    await store.admit({ reservationId: randomUUID(), charges: [full], blockKeys: [], leaseMs: 60_000 });
    times.push((performance.now() - started) * 1_000);
  }
  return percentile(times, 0.5);
}

async function sequentialP50(run: (index: number) => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let index = 0; index < 2_000; index++) {
    const started = performance.now();
    await run(index);
    times.push((performance.now() - started) * 1_000);
  }
  return percentile(times, 0.5);
}

// Anchors measured in the same run: a round trip, and a one-key upsert like rate-limiter-flexible's Postgres store
// (one statement, app clock), durable and with synchronous_commit off.
const peerTable = `"${schema}".peer_upsert`;
await pool.query(`CREATE TABLE ${peerTable} (key text PRIMARY KEY, points integer NOT NULL, expire bigint NOT NULL)`);
const upsert = `INSERT INTO ${peerTable} AS t (key, points, expire) VALUES ($1, 1, $2::bigint + 60000)
  ON CONFLICT (key) DO UPDATE SET points = CASE WHEN t.expire <= $2::bigint THEN 1 ELSE t.points + 1 END,
    expire = CASE WHEN t.expire <= $2::bigint THEN $2::bigint + 60000 ELSE t.expire END RETURNING points, expire`;
console.log(`SELECT 1: sequential p50 ${await sequentialP50(() => pool.query("SELECT 1"))} µs`);
console.log(
  `one-key upsert (peer), durable: sequential p50 ${await sequentialP50((index) => pool.query(upsert, [`user:${index % users}`, Date.now()]))} µs`,
);
const relaxedConnection = await pool.connect();
await relaxedConnection.query("SET synchronous_commit = off");
console.log(
  `one-key upsert (peer), synchronous_commit off: sequential p50 ${await sequentialP50((index) => relaxedConnection.query(upsert, [`user:${index % users}`, Date.now()]))} µs`,
);
await relaxedConnection.query("RESET synchronous_commit");
relaxedConnection.release();

for (const durability of ["durable", "relaxed"] as const) {
  const store = createPostgresStore(pool, { schema, durability, sweepIntervalMs: 0 });
  for (let index = 0; index < 300; index++) await call(store);
  const timings = { admit: [] as number[], settle: [] as number[] };
  for (let index = 0; index < sequentialCalls; index++) await call(store, timings);
  const pairs = timings.admit.map((admit, index) => admit + (timings.settle[index] ?? 0));
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next++ < concurrentCalls) await call(store);
    }),
  );
  const seconds = (performance.now() - started) / 1_000;
  const hotStarted = performance.now();
  let hotNext = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (hotNext++ < concurrentCalls / 2) await call(store, undefined, true);
    }),
  );
  const hotSeconds = (performance.now() - hotStarted) / 1_000;
  console.log(
    [
      `${durability}:`,
      `admit p50 ${percentile(timings.admit, 0.5)} µs (p99 ${percentile(timings.admit, 0.99)})`,
      `settle p50 ${percentile(timings.settle, 0.5)} µs`,
      `admit+settle p50 ${percentile(pairs, 0.5)} µs (p99 ${percentile(pairs, 0.99)})`,
      `refused admit p50 ${await refusedP50(store)} µs`,
      `64 in flight, pool 16: ${Math.round(concurrentCalls / seconds)} admit+settle/s`,
      `one hot key (1 global limit), 64 in flight: ${Math.round(concurrentCalls / 2 / hotSeconds)} admit+settle/s`,
    ].join(" | "),
  );
}
await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
await pool.end();
