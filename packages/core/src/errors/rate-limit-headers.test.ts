import { describe, expect, it } from "vitest";
import { type LimitExceededCode, type LimitExceededDetails, LimitExceededError } from "./limit-exceeded-error";
import { rateLimitHeaders } from "./rate-limit-headers";

function refusal(code: LimitExceededCode, details: Partial<LimitExceededDetails>): LimitExceededError {
  return new LimitExceededError(code, {
    limitId: "user-rpm",
    scope: "user",
    measure: "requests",
    window: { kind: "rolling", ms: 60_000 },
    limit: 10,
    used: 10,
    requested: 1,
    retryAfterMs: undefined,
    resetAt: undefined,
    ...details,
  });
}

describe("rateLimitHeaders (draft-ietf-httpapi-ratelimit-headers)", () => {
  it("describes a request limit exactly: quota, window, what is left, seconds until one fits", () => {
    expect(rateLimitHeaders(refusal("RATE_LIMITED", { retryAfterMs: 56_200 }))).toEqual({
      "retry-after": "57",
      "ratelimit-policy": '"user-rpm";q=10;w=60',
      ratelimit: '"user-rpm";r=0;t=57',
    });
    const ip = refusal("RATE_LIMITED", {
      limitId: "ip-per-30s",
      window: { kind: "rolling", ms: 30_000 },
      limit: 5,
      used: 3,
      requested: 3,
      retryAfterMs: 1_500,
    });
    expect(rateLimitHeaders(ip)).toEqual({
      "retry-after": "2",
      "ratelimit-policy": '"ip-per-30s";q=5;w=30',
      ratelimit: '"ip-per-30s";r=2;t=2',
    });
  });

  it("never asks for less than a second", () => {
    expect(rateLimitHeaders(refusal("RATE_LIMITED", { retryAfterMs: 20 }))["retry-after"]).toBe("1");
  });

  it("gives a calendar day or week its nominal length and a month no window, and waits until the reset", () => {
    const now = Date.UTC(2026, 0, 1, 22, 0, 0);
    const resetAt = new Date(Date.UTC(2026, 0, 2));
    const daily = refusal("QUOTA_EXCEEDED", {
      limitId: "user-daily-requests",
      window: { kind: "calendar", period: "day" },
      limit: 100,
      used: 100,
      resetAt,
    });
    expect(rateLimitHeaders(daily, now)).toEqual({
      "retry-after": "7200",
      "ratelimit-policy": '"user-daily-requests";q=100;w=86400',
      ratelimit: '"user-daily-requests";r=0;t=7200',
    });
    const weekly = refusal("QUOTA_EXCEEDED", { window: { kind: "calendar", period: "week" }, resetAt });
    expect(rateLimitHeaders(weekly, now)["ratelimit-policy"]).toBe('"user-rpm";q=10;w=604800');
    const monthly = refusal("QUOTA_EXCEEDED", { window: { kind: "calendar", period: "month" }, resetAt });
    expect(rateLimitHeaders(monthly, now)["ratelimit-policy"]).toBe('"user-rpm";q=10');
  });

  it("states a concurrency limit in the draft's concurrent-requests unit, without a window", () => {
    const parallel = refusal("CONCURRENCY_LIMITED", {
      limitId: "user-parallel",
      measure: "concurrent",
      window: { kind: "concurrency" },
      limit: 2,
      used: 2,
      retryAfterMs: 30_000,
    });
    expect(rateLimitHeaders(parallel)).toEqual({
      "retry-after": "30",
      "ratelimit-policy": '"user-parallel";q=2;qu="concurrent-requests"',
      ratelimit: '"user-parallel";r=0;t=30',
    });
  });

  it("gives token and dollar limits no policy (no registered unit), only r=0 until the wait is over", () => {
    const tokens = refusal("QUOTA_EXCEEDED", {
      limitId: "user-daily-tokens",
      measure: "tokens",
      window: { kind: "calendar", period: "day" },
      limit: 200_000,
      used: 199_000,
      retryAfterMs: 7_200_000,
    });
    expect(rateLimitHeaders(tokens)).toEqual({ "retry-after": "7200", ratelimit: '"user-daily-tokens";r=0;t=7200' });
    const usd = refusal("QUOTA_EXCEEDED", { limitId: "user-daily-usd", measure: "usd", limit: 0.25, used: 0.2499 });
    expect(rateLimitHeaders(usd)).toEqual({ ratelimit: '"user-daily-usd";r=0' });
  });

  it("leaves the wait out when nothing will ever fit, and escapes what a structured-field string cannot hold", () => {
    expect(rateLimitHeaders(refusal("RATE_LIMITED", {}))).toEqual({
      "ratelimit-policy": '"user-rpm";q=10;w=60',
      ratelimit: '"user-rpm";r=0',
    });
    const odd = refusal("RATE_LIMITED", { limitId: 'a "quoted" \\ lïmit', measure: "usd", retryAfterMs: 5_000 });
    expect(rateLimitHeaders(odd)).toEqual({ "retry-after": "5", ratelimit: '"a \\"quoted\\" \\\\ l_mit";r=0;t=5' });
  });
});
