import type { LimitExceededError } from "./limit-exceeded-error";

const nominalPeriodSeconds = { day: 86_400, week: 604_800 } as const;

/**
 * The HTTP response headers for a call Tollgate refused, for a backend that turns `LimitExceededError` into a 429:
 * `Retry-After`, and the IETF rate-limit fields of draft-ietf-httpapi-ratelimit-headers (structured fields):
 *
 *     Retry-After: 57
 *     RateLimit-Policy: "user-rpm";q=10;w=60
 *     RateLimit: "user-rpm";r=0;t=57
 *
 * The policy is named after the limit id and describes only the limit that refused the call (the error carries that
 * one; reporting the others would cost a store round trip per response). The draft counts quota in registered units
 * (`requests` when `qu` is absent, `concurrent-requests`), so:
 * - a `requests` limit maps exactly: `q` = the limit, `w` = its rolling window, or the nominal length of a calendar
 *   day or week (a month has no fixed length, so no `w`), `r` = what is left;
 * - a `concurrent` limit is `q=<n>;qu="concurrent-requests"`, without a window;
 * - `tokens` and `usd` limits have no registered unit, and a `q` in tokens or dollars would read as requests: they get
 *   no `RateLimit-Policy`, only `RateLimit: "<id>";r=0;t=<seconds>`, which is exactly true in requests of the call
 *   just refused (none fits before `t`).
 *
 * `t` equals `Retry-After`: whole seconds, rounded up, at least 1. When nothing will ever fit (the call alone is over
 * the limit) there is neither. Header names are lower case, as Node and the Fetch API use them. `now` (epoch ms)
 * only matters for a calendar quota whose wait is computed from `resetAt`.
 */
export function rateLimitHeaders(error: LimitExceededError, now: number = Date.now()): Record<string, string> {
  const retryAfterSeconds = retryAfter(error, now);
  const name = structuredString(error.limitId);
  const headers: Record<string, string> = {};
  if (retryAfterSeconds !== undefined) headers["retry-after"] = String(retryAfterSeconds);
  const reset = retryAfterSeconds === undefined ? "" : `;t=${retryAfterSeconds}`;
  const remaining = Math.max(0, Math.floor(error.limit - error.used));
  if (error.measure === "requests") {
    const windowSeconds = policyWindowSeconds(error);
    const window = windowSeconds === undefined ? "" : `;w=${windowSeconds}`;
    headers["ratelimit-policy"] = `${name};q=${Math.floor(error.limit)}${window}`;
    headers.ratelimit = `${name};r=${remaining}${reset}`;
  } else if (error.measure === "concurrent") {
    headers["ratelimit-policy"] = `${name};q=${Math.floor(error.limit)};qu="concurrent-requests"`;
    headers.ratelimit = `${name};r=${remaining}${reset}`;
  } else {
    headers.ratelimit = `${name};r=0${reset}`;
  }
  return headers;
}

/** The wait the store computed, or else the time until the period resets. */
function retryAfter(error: LimitExceededError, now: number): number | undefined {
  const waitMs = error.retryAfterMs ?? (error.resetAt === undefined ? undefined : error.resetAt.getTime() - now);
  return waitMs === undefined ? undefined : Math.max(1, Math.ceil(waitMs / 1000));
}

function policyWindowSeconds(error: LimitExceededError): number | undefined {
  const window = error.window;
  if (window.kind === "rolling") return Math.max(1, Math.ceil(window.ms / 1000));
  if (window.kind === "calendar" && window.period !== "month") return nominalPeriodSeconds[window.period];
  return undefined;
}

/** A structured-field String (RFC 9651): printable ASCII with `"` and `\` escaped; anything else becomes `_`. */
function structuredString(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, "_").replace(/[\\"]/g, (character) => `\\${character}`);
  return `"${printable}"`;
}
