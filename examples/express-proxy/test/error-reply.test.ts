import { type LimitExceededCode, type LimitExceededDetails, LimitExceededError } from "@tollgate/core";
import { describe, expect, it } from "vitest";
import { errorReply } from "../src/error-reply";

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

describe("errorReply for a LimitExceededError", () => {
  it("answers 429 with Retry-After and the RateLimit fields, and tells the person what happened and how long to wait", () => {
    const reply = errorReply(refusal("RATE_LIMITED", { retryAfterMs: 200 }));
    expect(reply).toMatchObject({
      status: 429,
      headers: { "retry-after": "1", "ratelimit-policy": '"user-rpm";q=10;w=60', ratelimit: '"user-rpm";r=0;t=1' },
      body: {
        error: "rate_limited",
        limit: "user-rpm",
        message: "You are sending messages too fast.",
        retryAfterSeconds: 1,
      },
      unexpected: false,
    });
  });

  it("says which kind of limit refused: a quota used up, or a reply still in progress", () => {
    const quota = errorReply(
      refusal("QUOTA_EXCEEDED", { measure: "usd", window: { kind: "calendar", period: "day" } }),
    );
    expect(quota.body).toMatchObject({ message: "You have used up your messages for now." });
    expect(quota.body).not.toHaveProperty("retryAfterSeconds");
    const parallel = errorReply(
      refusal("CONCURRENCY_LIMITED", { measure: "concurrent", window: { kind: "concurrency" } }),
    );
    expect(parallel.body).toMatchObject({ message: "Wait for the reply in progress to finish." });
  });
});
