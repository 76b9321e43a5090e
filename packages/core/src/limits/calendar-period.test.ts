import { describe, expect, it } from "vitest";
import { PeriodWindowCache, periodWindow } from "./calendar-period";

describe("periodWindow", () => {
  it("aligns a day to local midnight in the time zone", () => {
    // 2026-11-28 23:30 UTC is already 2026-11-29 00:30 in Berlin (UTC+1 in winter).
    const window = periodWindow("day", "Europe/Berlin", Date.UTC(2026, 10, 28, 23, 30));
    expect(window.id).toBe("2026-11-29");
    expect(new Date(window.startsAt).toISOString()).toBe("2026-11-28T23:00:00.000Z");
    expect(new Date(window.endsAt).toISOString()).toBe("2026-11-29T23:00:00.000Z");
  });

  it("handles a day that is 23 hours long across the spring DST change", () => {
    const window = periodWindow("day", "Europe/Berlin", Date.UTC(2026, 2, 29, 12));
    expect(window.id).toBe("2026-03-29");
    expect(window.endsAt - window.startsAt).toBe(23 * 3_600_000);
  });

  it("starts weeks on Monday and months on the 1st", () => {
    const week = periodWindow("week", "UTC", Date.UTC(2026, 10, 28, 12)); // a Saturday
    expect(new Date(week.startsAt).toISOString()).toBe("2026-11-23T00:00:00.000Z");
    expect(new Date(week.endsAt).toISOString()).toBe("2026-11-30T00:00:00.000Z");
    const month = periodWindow("month", "America/New_York", Date.UTC(2026, 11, 31, 12));
    expect(month.id).toBe("2026-12");
    expect(new Date(month.startsAt).toISOString()).toBe("2026-12-01T05:00:00.000Z");
    expect(new Date(month.endsAt).toISOString()).toBe("2027-01-01T05:00:00.000Z");
  });

  it("caches the current window and moves on at the boundary", () => {
    const cache = new PeriodWindowCache();
    const first = cache.get("day", "UTC", Date.UTC(2026, 0, 1, 23, 59, 59, 999));
    expect(cache.get("day", "UTC", Date.UTC(2026, 0, 1, 12))).toBe(first);
    expect(cache.get("day", "UTC", Date.UTC(2026, 0, 2)).id).toBe("2026-01-02");
  });
});
