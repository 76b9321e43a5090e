import type { Duration, Limit, LimitExceededError } from "@tollgate/core";

// The same file as examples/express-proxy/src/rate-limit-headers.ts: each example stands alone, to be copied whole.

/**
 * The IETF rate-limit fields for a refused call, per draft-ietf-httpapi-ratelimit-headers-11 (structured fields):
 *
 *     RateLimit-Policy: "user-rpm";q=10;w=60
 *     RateLimit: "user-rpm";r=0;t=57
 *
 * The policy is named after the Tollgate limit id. Only the limit that refused the call is described: the error
 * carries that one, and a `guard.check()` per response to report the others would cost a store round trip.
 *
 * The draft measures quota in registered units (`requests`, `content-bytes`, `concurrent-requests`; `requests` when
 * `qu` is absent). So:
 * - a `requests` limit maps exactly: `q` = the limit, `w` = its window in seconds (a calendar `day` or `week` as its
 *   nominal length; a `month` has none), `r` = what is left, `t` = the seconds until one request fits again;
 * - a `concurrent` limit is `q=<n>;qu="concurrent-requests"` (no window) and `r` = free slots;
 * - `tokens` and `usd` limits have no registered unit, and a `q` in tokens or dollars would read as requests. They
 *   get no `RateLimit-Policy`, only `RateLimit: "<id>";r=0;t=<seconds>`: in requests, which is exactly true of the
 *   call just refused (none fits before `t`). The body names the limit for people.
 *
 * `t` is the same number as `Retry-After` (the draft asks that Retry-After not end before the effective window).
 * Without a wait (the call alone exceeds the limit) there is no `t`.
 */
export function rateLimitHeaders(
  error: Pick<LimitExceededError, "limitId" | "limit" | "used">,
  limits: readonly Limit[],
  retryAfterSeconds: number | undefined,
): Record<string, string> {
  const name = structuredString(error.limitId);
  const effectiveWindow = retryAfterSeconds === undefined ? "" : `;t=${retryAfterSeconds}`;
  const remaining = Math.max(0, Math.floor(error.limit - error.used));
  const limit = limits.find((candidate) => candidate.id === error.limitId);

  if (limit?.requests !== undefined) {
    const windowSeconds = limitWindowSeconds(limit);
    return {
      "ratelimit-policy": `${name};q=${Math.floor(error.limit)}${windowSeconds === undefined ? "" : `;w=${windowSeconds}`}`,
      ratelimit: `${name};r=${remaining}${effectiveWindow}`,
    };
  }
  if (limit?.concurrent !== undefined) {
    return {
      "ratelimit-policy": `${name};q=${Math.floor(error.limit)};qu="concurrent-requests"`,
      ratelimit: `${name};r=${remaining}`,
    };
  }
  return { ratelimit: `${name};r=0${effectiveWindow}` };
}

/** Seconds of a limit's window: its rolling `per`, or the nominal length of a calendar day or week. */
function limitWindowSeconds(limit: Limit): number | undefined {
  if (limit.per !== undefined) return Math.max(1, Math.ceil(durationMs(limit.per) / 1000));
  if (limit.period === "day") return 86_400;
  if (limit.period === "week") return 604_800;
  return undefined; // a month has no fixed length
}

const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

function durationMs(duration: Duration): number {
  if (typeof duration === "number") return duration;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(duration);
  if (match === null) throw new Error(`Not a duration: ${duration}`);
  return Number(match[1]) * unitMs[match[2] as keyof typeof unitMs];
}

/** A structured-field String (RFC 9651): printable ASCII, `"` and `\` escaped; anything else becomes `_`. */
function structuredString(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, "_").replace(/[\\"]/g, (character) => `\\${character}`);
  return `"${printable}"`;
}
