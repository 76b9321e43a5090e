import type { TollgateStore } from "@tollgate/core";
import type { TimeScale } from "./time-scale";

/** Time as a run sees it: the store's clock, and a way to let it move. */
export interface TestClock {
  /** The store's clock as far as the test can know it: exact for an injected clock, this machine's time otherwise. */
  read(): number;
  /** Lets `milliseconds` pass: moves an injected clock (back, when negative), sleeps for a server clock. */
  advance(milliseconds: number): Promise<void>;
}

/** One run's view of a store: the store, its clock, and the names that keep the run apart from every other. */
export interface SystemUnderTest {
  store: TollgateStore;
  clock: TestClock;
  scale: TimeScale;
  /** Starts every counter key, block key and reservation id of the run. */
  namespace: string;
  /** Deletes expired rows now (Postgres): must change no answer. */
  sweep?: () => Promise<unknown>;
  /**
   * `listBlocked` may still list a block in the very millisecond of its `until` (Redis: a key is readable until its
   * expiry time has passed; see the report of the model tests). Admission is exact on every store.
   */
  listsBlockAtItsEnd?: boolean;
}

/** A clock the test moves by hand, for the memory store. */
export function manualClock(start: number): TestClock & { now: () => number } {
  let now = start;
  return {
    now: () => now,
    read: () => now,
    advance(milliseconds) {
      now += milliseconds;
      return Promise.resolve();
    },
  };
}

/**
 * The clock of a Redis or Postgres server on this machine: the same system clock as `Date.now()`, so the local time
 * before and after a round trip brackets the server's reading (checked on every admission).
 */
export const machineClock: TestClock = {
  read: () => Date.now(),
  advance: (milliseconds) => new Promise((resolve) => setTimeout(resolve, Math.max(0, milliseconds))),
};
