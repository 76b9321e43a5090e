import { randomUUID } from "node:crypto";
import {
  type AlertLogEntry,
  alertFromLogEntry,
  alertLogEntry,
  defaultAlertLogMaxEntries,
  defaultAlertLogRetentionMs,
  type TollgateAlert,
  type TollgateStore,
} from "@tollgate/core";
import { expect, it } from "vitest";

/** The bounds of a store's alert log, and how to get a store that has them. */
export interface AlertLogLimits {
  maxEntries: number;
  retentionMs: number;
}

export interface AlertLogContractOptions {
  withStore(run: (store: TollgateStore) => Promise<void>): Promise<void>;
  /** A store with the given bounds; when absent, `withStore`'s store is taken to have the documented defaults. */
  withLimitedStore:
    | ((limits: AlertLogLimits, run: (store: TollgateStore) => Promise<void>) => Promise<void>)
    | undefined;
}

const dayMs = 86_400_000;
/** Small bounds for stores that take them: enough to show the rule, cheap to fill. */
const testLimits: AlertLogLimits = { maxEntries: 40, retentionMs: 30 * dayMs };
/** Entries recorded at once while filling a log. */
const fillBatch = 250;

/**
 * The alert log cases of the store contract. A store's log may be shared by every case (one Postgres table), so each
 * case writes in a time range of its own and reads within it, except the cap case, which writes after all others.
 */
export function registerAlertLogCases(options: AlertLogContractOptions): void {
  it("keeps an alert log: newest first, by time range and limit, every entry exactly as recorded", async () => {
    await options.withStore(async (store) => {
      const base = randomTimeInYears(2001, 2050);
      const alerts = sampleAlerts(base);
      const entries = alerts.map(alertLogEntry);
      for (const index of [3, 0, 4, 1, 2]) await store.recordAlert(entries[index]!);
      const newestFirst = [...entries].reverse();

      const all = await store.listAlerts({ since: base, until: base + 5_000 });
      expect(all).toEqual(newestFirst);
      expect(all.map(alertFromLogEntry)).toEqual([...alerts].reverse());
      // `since` is inclusive, `until` exclusive.
      expect(await store.listAlerts({ since: base + 1_000, until: base + 3_000 })).toEqual([entries[2], entries[1]]);
      expect(await store.listAlerts({ since: base, until: base + 5_000, limit: 2 })).toEqual(newestFirst.slice(0, 2));
      expect(await store.listAlerts({ since: base, until: base + 5_000, limit: 0 })).toEqual([]);
      expect(await store.listAlerts({ since: base + 5_000, until: base + 9_000 })).toEqual([]);
      const latest = await store.listAlerts({ until: base + 5_000, limit: 1 });
      expect(latest).toEqual([entries[4]]);

      await expect(store.recordAlert({ ...entries[0]!, time: Number.NaN })).rejects.toThrow(RangeError);
      await expect(store.listAlerts({ limit: -1 })).rejects.toThrow(RangeError);
    });
  });

  it("drops alert log entries older than the retention before the entry being recorded", async () => {
    await run(options, async (store, limits) => {
      const base = randomTimeInYears(2051, 2099);
      const [first, second, third] = sampleAlerts(base).map(alertLogEntry);
      const old = { ...first!, time: base };
      const kept = { ...second!, time: base + dayMs };
      const newest = { ...third!, time: base + limits.retentionMs + 1 };
      for (const entry of [old, kept]) await store.recordAlert(entry);
      expect(await store.listAlerts({ since: base, until: newest.time + 1 })).toEqual([kept, old]);
      await store.recordAlert(newest);
      expect(await store.listAlerts({ since: base, until: newest.time + 1 })).toEqual([newest, kept]);
    });
  });

  it("keeps at most the alert log's maximum number of entries, dropping the oldest", async () => {
    await run(options, async (store, limits) => {
      // After every other case's entries (a shared log holds them too), so the cap drops those first.
      const base = Date.UTC(2200, 0, 1);
      const template = alertLogEntry(sampleAlerts(base)[0]!);
      const entryAt = (index: number): AlertLogEntry => ({
        time: base + index,
        alert: { ...template.alert, limitId: `cap-${index}` } as AlertLogEntry["alert"],
      });
      const total = limits.maxEntries + 3;
      // The three oldest go in first and alone: a store may drop by insertion order or by time.
      for (let index = 0; index < 3; index++) await store.recordAlert(entryAt(index));
      for (let start = 3; start < total; start += fillBatch) {
        const batch = Array.from({ length: Math.min(fillBatch, total - start) }, (_, offset) =>
          entryAt(start + offset),
        );
        await Promise.all(batch.map((entry) => store.recordAlert(entry)));
      }
      const kept = await store.listAlerts();
      expect(kept).toHaveLength(limits.maxEntries);
      expect(kept[0]).toEqual(entryAt(total - 1));
      expect(kept.at(-1)).toEqual(entryAt(3));
      expect(kept.map((entry) => entry.time)).toEqual(
        Array.from({ length: limits.maxEntries }, (_, index) => base + total - 1 - index),
      );
    });
  }, 120_000);
}

function run(
  options: AlertLogContractOptions,
  body: (store: TollgateStore, limits: AlertLogLimits) => Promise<void>,
): Promise<void> {
  if (options.withLimitedStore !== undefined) {
    return options.withLimitedStore(testLimits, (store) => body(store, testLimits));
  }
  const defaults = { maxEntries: defaultAlertLogMaxEntries, retentionMs: defaultAlertLogRetentionMs };
  return options.withStore((store) => body(store, defaults));
}

/** A whole second in a random day between the two years, so cases sharing a log do not read each other's entries. */
function randomTimeInYears(firstYear: number, lastYear: number): number {
  const start = Date.UTC(firstYear, 0, 1);
  const days = Math.floor((Date.UTC(lastYear, 0, 1) - start) / dayMs);
  return start + Math.floor(Math.random() * days) * dayMs + Math.floor(Math.random() * 80_000) * 1_000;
}

/** One alert of each type, a second apart from `base`, with subject values no store may alter or interpret. */
function sampleAlerts(base: number): TollgateAlert[] {
  const hostile = `<script>alert("x")</script> & 'ü' \u0000 ${randomUUID()}`;
  return [
    {
      type: "budget.threshold",
      time: new Date(base),
      limitId: "monthly-budget",
      scope: "global",
      subject: undefined,
      period: "2026-11",
      measure: "usd",
      used: 0.004_912_345,
      limit: 0.0095,
      fraction: 0.5,
      shadow: false,
    },
    {
      type: "budget.projected",
      time: new Date(base + 1_000),
      limitId: "user-daily-usd",
      scope: "user",
      subject: hostile,
      period: "2026-11-29",
      measure: "usd",
      used: 0.3,
      limit: 1,
      exhaustedAt: new Date(base + 3_600_000),
      periodEndsAt: new Date(base + 7_200_000),
      shadow: true,
    },
    {
      type: "loop.detected",
      time: new Date(base + 2_000),
      subject: { user: hostile, ip: "203.0.113.7" },
      model: "claude-haiku-4-5",
      repeats: 10,
      windowMs: 60_000,
    },
    {
      type: "anomaly.detected",
      time: new Date(base + 3_000),
      scope: "ip",
      subject: "198.51.100.1",
      measure: "requests",
      recent: 1_234,
      expected: 12.5,
      windowMs: 300_000,
      quarantined: true,
    },
    {
      type: "reconcile.mismatch",
      time: new Date(base + 4_000),
      provider: "openai",
      model: "gpt-4o",
      day: "2026-11-28",
      unaccountedTokens: 123_456,
      unaccountedUsd: undefined,
    },
  ];
}
