import { describe, expect, it } from "vitest";
import { RecentIds } from "./recent-ids";

describe("recent ids (the memory store's record deduplication)", () => {
  it("claims an id once while it is remembered, and again once it is forgotten", () => {
    const ids = new RecentIds(600_000);
    expect(ids.claim("call-1", 0)).toBe(true);
    expect(ids.claim("call-1", 1)).toBe(false);
    expect(ids.claim("call-1", 599_999)).toBe(false);
    expect(ids.claim("call-2", 599_999)).toBe(true);
    expect(ids.claim("call-1", 600_000)).toBe(true);
  });

  it("a sweep drops only the forgotten ids, so memory follows the ids of the last window", () => {
    const ids = new RecentIds(1_000);
    for (let index = 0; index < 100; index++) ids.claim(`old-${index}`, 0);
    for (let index = 0; index < 10; index++) ids.claim(`new-${index}`, 500);
    ids.sweep(1_000);
    expect(ids.size).toBe(10);
    expect(ids.claim("new-3", 1_000)).toBe(false);
    ids.sweep(1_500);
    expect(ids.size).toBe(0);
  });

  it("an id claimed again after it was forgotten moves behind the ids that expire before it", () => {
    const ids = new RecentIds(1_000);
    ids.claim("again", 0);
    ids.claim("once", 500);
    expect(ids.claim("again", 1_000)).toBe(true);
    ids.sweep(1_600);
    expect(ids.size).toBe(1);
    expect(ids.claim("again", 1_600)).toBe(false);
    expect(ids.claim("once", 1_600)).toBe(true);
  });
});
