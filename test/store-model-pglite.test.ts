import { PGlite } from "@electric-sql/pglite";
import { createPostgresStore, migrate, type PostgresStore } from "@tollgate/postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answersAtBlockEnd } from "./store-model/block-end-probe";
import { assertStoreFollowsModel, propertyTimeoutMs, setupTimeoutMs } from "./store-model/model-property";
import { machineClock, type SystemUnderTest } from "./store-model/system-under-test";
import { realTimeScale } from "./store-model/time-scale";

// PGlite runs in this process: Postgres' clock is this machine's, as for a server.
let database: PGlite | undefined;
let store: PostgresStore | undefined;

beforeAll(async () => {
  database = new PGlite();
  await migrate(database);
  store = createPostgresStore(database, { sweepIntervalMs: 0 });
}, setupTimeoutMs);

afterAll(async () => {
  await store?.close();
  await database?.close();
});

let runs = 0;
function pgliteSystem(): SystemUnderTest {
  const shared = store;
  if (shared === undefined) throw new Error("PGlite is not set up");
  return {
    store: shared,
    clock: machineClock,
    scale: realTimeScale,
    namespace: `run-${runs++}:`,
    sweep: () => shared.sweep(),
  };
}

describe("Postgres store on PGlite against the reference model", () => {
  it(
    "answers every random sequence of admissions, settlements, leases, blocks, sweeps and sleeps like the model",
    async () => {
      await assertStoreFollowsModel(pgliteSystem, {
        scale: realTimeScale,
        commands: { sweeps: true },
        runs: 20,
        maxCommands: 25,
        timeLimitMs: 30_000,
      });
    },
    propertyTimeoutMs,
  );

  // The boundary a model run found wrong in the Redis store: a block has ended in the millisecond of its `until`.
  it("admits in the very millisecond a block ends", async () => {
    const system = pgliteSystem();
    const answers = await answersAtBlockEnd(system.store, system.namespace);
    expect(answers.length).toBeGreaterThan(0);
    for (const answer of answers) expect(answer.admitted).toBe(true);
  });
});
