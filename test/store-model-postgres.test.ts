import { createPostgresStore, migrate, type PostgresStore } from "@tollgate/postgres";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseUrl, probePostgres } from "./service-probes";
import { answersAtBlockEnd } from "./store-model/block-end-probe";
import { assertStoreFollowsModel, propertyTimeoutMs, setupTimeoutMs } from "./store-model/model-property";
import { machineClock, type SystemUnderTest } from "./store-model/system-under-test";
import { realTimeScale } from "./store-model/time-scale";

const probe = await probePostgres();
/** This file's own schema, dropped at the end. */
const schema = `tollgate_model_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
let pool: pg.Pool | undefined;
let store: PostgresStore | undefined;

beforeAll(async () => {
  if (!probe.reachable) return;
  pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  await migrate(pool, { schema });
  // No background sweep: the runs sweep explicitly, at random points.
  store = createPostgresStore(pool, { schema, sweepIntervalMs: 0 });
}, setupTimeoutMs);

afterAll(async () => {
  await store?.close();
  await pool?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool?.end();
});

let runs = 0;
/** One store on the file's schema; each run keeps to keys, block keys and reservation ids of its own. */
function postgresSystem(): SystemUnderTest {
  const shared = store;
  if (shared === undefined) throw new Error("Postgres is not set up");
  return {
    store: shared,
    clock: machineClock,
    scale: realTimeScale,
    namespace: `run-${runs++}:`,
    sweep: () => shared.sweep(),
  };
}

describe.runIf(probe.reachable)("Postgres store against the reference model", () => {
  it(
    "answers every random sequence of admissions, settlements, leases, blocks, sweeps and sleeps like the model",
    async () => {
      await assertStoreFollowsModel(postgresSystem, {
        scale: realTimeScale,
        commands: { sweeps: true },
        runs: 30,
        maxCommands: 25,
        timeLimitMs: 40_000,
      });
    },
    propertyTimeoutMs,
  );

  // The boundary a model run found wrong in the Redis store: a block has ended in the millisecond of its `until`.
  it("admits in the very millisecond a block ends", async () => {
    const system = postgresSystem();
    const answers = await answersAtBlockEnd(system.store, system.namespace);
    expect(answers.length).toBeGreaterThan(0);
    for (const answer of answers) expect(answer.admitted).toBe(true);
  });
});

describe.runIf(!probe.reachable && !probe.skip)("Postgres (required in CI)", () => {
  it("is reachable", () => {
    probe.assertReachable();
  });
});
