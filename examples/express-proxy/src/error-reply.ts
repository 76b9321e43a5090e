import { BlockedError, type Limit, LimitExceededError, StoreUnavailableError, TollgateError } from "@tollgate/core";
import OpenAI from "openai";
import { rateLimitHeaders } from "./rate-limit-headers";

export interface ErrorReply {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
  /** A bug or an outage, worth logging; refusals are the guard doing its job. */
  unexpected: boolean;
}

/** What each kind of refusal means to a person, shown by the page in front of the wait. */
const refusalMessages = {
  RATE_LIMITED: "You are sending messages too fast.",
  QUOTA_EXCEEDED: "You have used up your messages for now.",
  CONCURRENCY_LIMITED: "Wait for the reply in progress to finish.",
} as const;

/**
 * What a failed call means to the browser. Refusals are expected and say what to do; anything else is logged and
 * answered without detail (a provider error says nothing about the account or the key).
 *
 * `limits` are the limits the guard enforces: a 429 describes the one that refused in the IETF `RateLimit-Policy`
 * and `RateLimit` fields (see `rateLimitHeaders`).
 */
export function errorReply(error: unknown, limits: readonly Limit[], now = Date.now()): ErrorReply {
  if (LimitExceededError.isInstance(error)) {
    const retryAfterMs =
      error.retryAfterMs ?? (error.resetAt === undefined ? undefined : error.resetAt.getTime() - now);
    const retryAfterSeconds = retryAfterMs === undefined ? undefined : Math.max(1, Math.ceil(retryAfterMs / 1000));
    return {
      status: 429,
      body: {
        error: "rate_limited",
        limit: error.limitId,
        message: refusalMessages[error.code],
        ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
      },
      headers: {
        ...(retryAfterSeconds === undefined ? {} : { "retry-after": String(retryAfterSeconds) }),
        ...rateLimitHeaders(error, limits, retryAfterSeconds),
      },
      unexpected: false,
    };
  }
  if (BlockedError.isInstance(error)) {
    const body = { error: "blocked", message: "Chat is disabled for you." };
    return { status: 403, body, headers: {}, unexpected: false };
  }
  if (StoreUnavailableError.isInstance(error)) {
    const body = { error: "unavailable", message: "Try again shortly." };
    return { status: 503, body, headers: { "retry-after": "5" }, unexpected: true };
  }
  if (error instanceof OpenAI.APIError) {
    const body = { error: "upstream", message: "The model is unavailable. Try again later." };
    return { status: 502, body, headers: {}, unexpected: true };
  }
  const body = TollgateError.isInstance(error) ? { error: "internal", code: error.code } : { error: "internal" };
  return { status: 500, body, headers: {}, unexpected: true };
}
