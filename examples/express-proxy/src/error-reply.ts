import {
  BlockedError,
  LimitExceededError,
  rateLimitHeaders,
  StoreUnavailableError,
  TollgateError,
} from "@tollgate/core";
import OpenAI from "openai";

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
 * A 429 carries `Retry-After` and the IETF `RateLimit-Policy` / `RateLimit` fields of the limit that refused
 * (`rateLimitHeaders` from @tollgate/core).
 */
export function errorReply(error: unknown): ErrorReply {
  if (LimitExceededError.isInstance(error)) {
    const headers = rateLimitHeaders(error);
    const retryAfterSeconds = headers["retry-after"] === undefined ? undefined : Number(headers["retry-after"]);
    return {
      status: 429,
      body: {
        error: "rate_limited",
        limit: error.limitId,
        message: refusalMessages[error.code],
        ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
      },
      headers,
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
