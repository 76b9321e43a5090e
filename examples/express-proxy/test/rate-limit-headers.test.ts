import { type Limit, type LimitExceededCode, type LimitExceededDetails, LimitExceededError } from "@tollgate/core";
import { describe, expect, it } from "vitest";
import { errorReply } from "../src/error-reply";
import { rateLimitHeaders } from "../src/rate-limit-headers";

const limits: Limit[] = [
  { id: "user-rpm", scope: "user", requests: 10, per: "1m" },
  { id: "ip-per-30s", scope: "ip", requests: 5, per: 30_000 },
  { id: "user-daily-requests", scope: "user", requests: 100, period: "day", timeZone: "Europe/Berlin" },
  { id: "user-monthly-requests", scope: "user", requests: 1_000, period: "month" },
  { id: "user-parallel", scope: "user", concurrent: 2 },
  { id: "user-daily-tokens", scope: "user", tokens: 200_000, period: "day" },
  { id: "user-daily-usd", scope: "user", usd: 0.25, period: "day" },
];

function refusal(code: LimitExceededCode, details: Partial<LimitExceededDetails> & { limitId: string }) {
  return new LimitExceededError(code, {
    scope: "user",
    limit: 10,
    used: 10,
    requested: 1,
    retryAfterMs: undefined,
    resetAt: undefined,
    ...details,
  });
}

describe("rateLimitHeaders (draft-ietf-httpapi-ratelimit-headers-11)", () => {
  it("describes a request limit exactly: quota, window, what is left, seconds until one fits", () => {
    expect(rateLimitHeaders(refusal("RATE_LIMITED", { limitId: "user-rpm" }), limits, 57)).toEqual({
      "ratelimit-policy": '"user-rpm";q=10;w=60',
      ratelimit: '"user-rpm";r=0;t=57',
    });
    const ip = refusal("RATE_LIMITED", { limitId: "ip-per-30s", limit: 5, used: 5 });
    expect(rateLimitHeaders(ip, limits, 2)).toEqual({
      "ratelimit-policy": '"ip-per-30s";q=5;w=30',
      ratelimit: '"ip-per-30s";r=0;t=2',
    });
  });

  it("gives a calendar day or week its nominal length, and a month no window", () => {
    const daily = refusal("QUOTA_EXCEEDED", { limitId: "user-daily-requests", limit: 100, used: 100 });
    expect(rateLimitHeaders(daily, limits, 3_600)["ratelimit-policy"]).toBe('"user-daily-requests";q=100;w=86400');
    const monthly = refusal("QUOTA_EXCEEDED", { limitId: "user-monthly-requests", limit: 1_000, used: 1_000 });
    expect(rateLimitHeaders(monthly, limits, 86_400)).toEqual({
      "ratelimit-policy": '"user-monthly-requests";q=1000',
      ratelimit: '"user-monthly-requests";r=0;t=86400',
    });
  });

  it("states a concurrency limit in the draft's concurrent-requests unit, without a window", () => {
    const parallel = refusal("CONCURRENCY_LIMITED", { limitId: "user-parallel", limit: 2, used: 2 });
    expect(rateLimitHeaders(parallel, limits, 1)).toEqual({
      "ratelimit-policy": '"user-parallel";q=2;qu="concurrent-requests"',
      ratelimit: '"user-parallel";r=0',
    });
  });

  it("gives token and dollar limits no policy (no registered unit), only r=0 until the wait is over", () => {
    const tokens = refusal("QUOTA_EXCEEDED", { limitId: "user-daily-tokens", limit: 200_000, used: 199_000 });
    expect(rateLimitHeaders(tokens, limits, 7_200)).toEqual({ ratelimit: '"user-daily-tokens";r=0;t=7200' });
    const usd = refusal("QUOTA_EXCEEDED", { limitId: "user-daily-usd", limit: 0.25, used: 0.2499 });
    expect(rateLimitHeaders(usd, limits, 7_200)).toEqual({ ratelimit: '"user-daily-usd";r=0;t=7200' });
  });

  it("leaves t out when nothing will ever fit, and escapes what a structured-field string cannot hold", () => {
    expect(rateLimitHeaders(refusal("RATE_LIMITED", { limitId: "user-rpm" }), limits, undefined)).toEqual({
      "ratelimit-policy": '"user-rpm";q=10;w=60',
      ratelimit: '"user-rpm";r=0',
    });
    const odd = refusal("RATE_LIMITED", { limitId: 'a "quoted" \\ lïmit' });
    expect(rateLimitHeaders(odd, limits, 5)).toEqual({ ratelimit: '"a \\"quoted\\" \\\\ l_mit";r=0;t=5' });
  });
});

describe("errorReply for a LimitExceededError", () => {
  it("answers 429 with Retry-After from retryAfterMs, rounded up, never below one second", () => {
    const reply = errorReply(refusal("RATE_LIMITED", { limitId: "user-rpm", retryAfterMs: 200 }), limits);
    expect(reply).toMatchObject({
      status: 429,
      headers: { "retry-after": "1", ratelimit: '"user-rpm";r=0;t=1' },
      body: { error: "rate_limited", limit: "user-rpm", message: "You are sending messages too fast." },
      unexpected: false,
    });
  });

  it("takes the wait of a calendar quota from resetAt when there is no retryAfterMs", () => {
    const now = Date.UTC(2026, 0, 1, 22, 0, 0);
    const error = refusal("QUOTA_EXCEEDED", {
      limitId: "user-daily-usd",
      limit: 0.25,
      used: 0.25,
      resetAt: new Date(Date.UTC(2026, 0, 2)),
    });
    const reply = errorReply(error, limits, now);
    expect(reply.headers).toEqual({ "retry-after": "7200", ratelimit: '"user-daily-usd";r=0;t=7200' });
    expect(reply.body).toMatchObject({ message: "You have used up your messages for now.", retryAfterSeconds: 7200 });
  });
});
