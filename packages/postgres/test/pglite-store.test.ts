import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { type FakeProviders, startFakeProviders } from "@tollgate/testing";
import { describeStoreContract } from "@tollgate/testing/store-contract";
import { afterAll, describe, expect, it } from "vitest";
import { createPostgresStore, migrate } from "../src/index";
import { collectOutput, spawnScript } from "./child-process";

const database = new PGlite();
await migrate(database);
const cleanups: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
  await database.close();
});

describeStoreContract("pglite (in memory)", {
  createStore: () => createPostgresStore(database, { sweepIntervalMs: 0 }),
  createStoreWithAlertLogLimits: ({ maxEntries, retentionMs }) =>
    createPostgresStore(database, {
      sweepIntervalMs: 0,
      alertLogMaxEntries: maxEntries,
      alertLogRetentionMs: retentionMs,
    }),
});

describe("PGlite store", () => {
  it("migrates idempotently and runs the sweep", async () => {
    expect(await migrate(database)).toEqual({ applied: [], version: 3 });
    const store = createPostgresStore(database, { sweepIntervalMs: 0 });
    expect(await store.sweep()).toMatchObject({ skipped: false });
  });

  it("keeps a daily quota across two runs of a script whose PGlite lives in a folder", async () => {
    const fake: FakeProviders = await startFakeProviders();
    const folder = await mkdtemp(join(tmpdir(), "tollgate-pglite-"));
    cleanups.push(
      () => fake.close(),
      () => rm(folder, { recursive: true, force: true }),
    );
    const dataDirectory = join(folder, "tollgate-data");
    const run = () =>
      collectOutput(spawnScript("./pglite-quota-script.ts", [dataDirectory, fake.openaiBaseURL])).result();
    expect(await run()).toEqual({ admitted: 2, refused: 0 });
    expect(await run()).toEqual({ admitted: 1, refused: 1 });
    expect(fake.requests).toHaveLength(3);
    // The folder holds the ledger too.
    const reopened = new PGlite(dataDirectory);
    cleanups.push(() => reopened.close());
    const rows = await createPostgresStore(reopened, { sweepIntervalMs: 0 }).queryUsage({ groupBy: ["user"] });
    expect(rows).toMatchObject([{ group: { user: "script-user" }, requests: 3 }]);
  }, 60_000);
});
