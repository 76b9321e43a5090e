import { describe, expect, it } from "vitest";
import type { TollgateAlert } from "../alerts/alert";
import { ConfigurationError } from "../errors/configuration-error";
import { alertFromLogEntry, alertLogEntry } from "./alert-log";
import { createMemoryStore } from "./memory-store";

const projected: TollgateAlert = {
  type: "budget.projected",
  time: new Date("2026-11-10T08:00:00.123Z"),
  limitId: "monthly",
  scope: "global",
  subject: undefined,
  period: "2026-11",
  measure: "usd",
  used: 400,
  limit: 1_000,
  exhaustedAt: new Date("2026-11-25T00:00:00.000Z"),
  periodEndsAt: new Date("2026-12-01T00:00:00.000Z"),
  shadow: false,
};

describe("alert log entries", () => {
  it("hold the alert as JSON data: dates as ISO strings, undefined fields left out", () => {
    const entry = alertLogEntry(projected);
    expect(entry.time).toBe(Date.parse("2026-11-10T08:00:00.123Z"));
    expect(entry.alert).toStrictEqual({
      type: "budget.projected",
      time: "2026-11-10T08:00:00.123Z",
      limitId: "monthly",
      scope: "global",
      period: "2026-11",
      measure: "usd",
      used: 400,
      limit: 1_000,
      exhaustedAt: "2026-11-25T00:00:00.000Z",
      periodEndsAt: "2026-12-01T00:00:00.000Z",
      shadow: false,
    });
    expect(JSON.parse(JSON.stringify(entry))).toStrictEqual(entry);
  });

  it("turn back into the alert the sinks received, dates included", () => {
    expect(alertFromLogEntry(alertLogEntry(projected))).toEqual(projected);
    const loop: TollgateAlert = {
      type: "loop.detected",
      time: new Date(0),
      subject: { user: "u" },
      model: "m",
      repeats: 3,
      windowMs: 1_000,
    };
    expect(alertFromLogEntry(alertLogEntry(loop))).toEqual(loop);
  });
});

describe("memory store alert log", () => {
  it("keeps a copy: changing an entry after recording or after listing changes nothing in the log", async () => {
    const store = createMemoryStore();
    const entry = alertLogEntry(projected);
    await store.recordAlert(entry);
    (entry.alert as { limitId: string }).limitId = "changed";
    const [listed] = await store.listAlerts();
    expect(listed?.alert).toMatchObject({ limitId: "monthly" });
    (listed!.alert as { limitId: string }).limitId = "changed again";
    expect((await store.listAlerts())[0]?.alert).toMatchObject({ limitId: "monthly" });
  });

  it("refuses bounds that are not positive integers", () => {
    expect(() => createMemoryStore({ alertLogMaxEntries: 0 })).toThrow(ConfigurationError);
    expect(() => createMemoryStore({ alertLogRetentionMs: Number.NaN })).toThrow(/alertLogRetentionMs/);
  });
});
