import * as fc from "fast-check";
import { type CommandOptions, storeCommands } from "./arbitraries";
import { ModelRun, type StoreCommand } from "./commands";
import type { SystemUnderTest } from "./system-under-test";
import type { TimeScale } from "./time-scale";

/** Creates the store side of one run; `start` is a random epoch for stores whose clock the test sets. */
export type CreateSystem = (start: number) => SystemUnderTest | Promise<SystemUnderTest>;

export interface ModelPropertySettings {
  scale: TimeScale;
  commands: CommandOptions;
  /** Runs per test; `FC_RUNS` overrides it (bug hunts: `FC_RUNS=2000`). */
  runs: number;
  maxCommands: number;
  /** Stops starting new runs after this long (a loaded machine runs fewer, never fails for it). */
  timeLimitMs: number;
}

/**
 * Random command sequences, each run against a fresh model and a fresh run of the store, compared after every step.
 * Seeds are fresh on every run; a failure prints its seed, path and shrunk sequence, and `FC_SEED` + `FC_PATH`
 * replay it.
 */
export async function assertStoreFollowsModel(createSystem: CreateSystem, settings: ModelPropertySettings) {
  const runs = envInteger("FC_RUNS") ?? settings.runs;
  const seed = envInteger("FC_SEED");
  const path = process.env.FC_PATH;
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1_500_000_000_000, max: 2_500_000_000_000 }),
      storeCommands(settings.scale, settings.commands, settings.maxCommands),
      async (start, commands) => {
        await fc.asyncModelRun(async () => ({ model: new ModelRun(), real: await createSystem(start) }), commands);
      },
    ),
    {
      numRuns: runs,
      interruptAfterTimeLimit: process.env.FC_RUNS === undefined ? settings.timeLimitMs : 3_600_000,
      markInterruptAsFailure: false,
      ...(seed === undefined ? {} : { seed }),
      ...(path === undefined ? {} : { path, endOnFailure: true }),
    },
  );
}

/** The test's own timeout: bounded runs normally, an hour for a bug hunt (`FC_RUNS`). */
export const propertyTimeoutMs = process.env.FC_RUNS === undefined ? 120_000 : 3_600_000;

/** Connecting and migrating (PGlite starts a WebAssembly Postgres) can take long on a loaded machine. */
export const setupTimeoutMs = 120_000;

/** Runs one explicit sequence (a kept counterexample) against a fresh model. */
export async function replay(system: SystemUnderTest, commands: readonly StoreCommand[]): Promise<void> {
  await fc.asyncModelRun(() => ({ model: new ModelRun(), real: system }), commands);
}

function envInteger(name: string): number | undefined {
  const value = process.env[name];
  if (value === undefined || value === "") return undefined;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) throw new Error(`${name} must be an integer, got ${value}`);
  return parsed;
}
