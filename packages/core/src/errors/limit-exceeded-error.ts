import type { CalendarPeriod, LimitMeasure, LimitScope } from "../limits/limit-config";
import { hasCode, TollgateError } from "./tollgate-error";

export type LimitExceededCode = "RATE_LIMITED" | "QUOTA_EXCEEDED" | "CONCURRENCY_LIMITED";

/** The window of the limit that refused: a rolling one (`per`), a calendar period, or none (concurrency). */
export type LimitWindow =
  | { kind: "rolling"; ms: number }
  | { kind: "calendar"; period: CalendarPeriod }
  | { kind: "concurrency" };

export interface LimitExceededDetails {
  limitId: string;
  scope: LimitScope;
  /** What the limit counts: requests, tokens (all, input or output), USD or concurrent calls. */
  measure: LimitMeasure;
  window: LimitWindow;
  /** The limit's capacity in its own unit (requests, tokens, USD, concurrent calls). */
  limit: number;
  /** What was already used in the current window, in the same unit. */
  used: number;
  /** What this call asked for, in the same unit. */
  requested: number;
  /** When capacity for this call is expected back; `undefined` when it never will (the call alone is over the limit). */
  retryAfterMs: number | undefined;
  /** When the window or period that refused the call resets, if it has a fixed end. */
  resetAt: Date | undefined;
}

/**
 * A call was refused because a limit had no room for it. `RATE_LIMITED` for rolling windows (`per`),
 * `QUOTA_EXCEEDED` for calendar periods (`period`), `CONCURRENCY_LIMITED` for `concurrent`.
 */
export class LimitExceededError extends TollgateError implements LimitExceededDetails {
  declare readonly code: LimitExceededCode;
  readonly limitId: string;
  readonly scope: LimitScope;
  readonly measure: LimitMeasure;
  readonly window: LimitWindow;
  readonly limit: number;
  readonly used: number;
  readonly requested: number;
  readonly retryAfterMs: number | undefined;
  readonly resetAt: Date | undefined;

  constructor(code: LimitExceededCode, details: LimitExceededDetails) {
    const retry = details.retryAfterMs === undefined ? "" : `; retry after ${Math.ceil(details.retryAfterMs)} ms`;
    super(
      code,
      `Limit "${details.limitId}" (${details.scope}) refused the call: ${formatAmount(details.used)} used + ${formatAmount(details.requested)} requested > ${formatAmount(details.limit)}${retry}`,
    );
    this.name = "LimitExceededError";
    this.limitId = details.limitId;
    this.scope = details.scope;
    this.measure = details.measure;
    this.window = details.window;
    this.limit = details.limit;
    this.used = details.used;
    this.requested = details.requested;
    this.retryAfterMs = details.retryAfterMs;
    this.resetAt = details.resetAt;
  }

  static override isInstance(error: unknown): error is LimitExceededError {
    return hasCode(error, ["RATE_LIMITED", "QUOTA_EXCEEDED", "CONCURRENCY_LIMITED"]);
  }
}

function formatAmount(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(6).replace(/0+$/, "");
}
