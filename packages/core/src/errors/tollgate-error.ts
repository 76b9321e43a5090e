const marker = Symbol.for("tollgate.error");

/** Stable machine-readable codes of every error Tollgate throws. */
export type TollgateErrorCode =
  | "RATE_LIMITED"
  | "QUOTA_EXCEEDED"
  | "CONCURRENCY_LIMITED"
  | "BLOCKED"
  | "LOOP_DETECTED"
  | "UNKNOWN_MODEL"
  | "UNGUARDED_OPERATION"
  | "STORE_UNAVAILABLE"
  | "INVALID_CONFIG"
  | "MISSING_SCOPE"
  | "BROWSER_ENVIRONMENT"
  | "RECONCILE_FAILED";

/**
 * Base class of Tollgate's errors. Use `TollgateError.isInstance(error)` (or the subclass's) rather than
 * `instanceof`: a process can hold the ESM and the CJS copy of this package at once, and `instanceof` fails
 * across them. The check uses a `Symbol.for` marker shared by every copy.
 */
export class TollgateError extends Error {
  readonly code: TollgateErrorCode;

  constructor(code: TollgateErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "TollgateError";
    this.code = code;
    Object.defineProperty(this, marker, { value: true });
  }

  static isInstance(error: unknown): error is TollgateError {
    return typeof error === "object" && error !== null && (error as { [marker]?: unknown })[marker] === true;
  }
}

/** Builds `isInstance` for a subclass: the base marker plus one of the subclass's codes. */
export function hasCode<T extends TollgateError>(error: unknown, codes: readonly TollgateErrorCode[]): error is T {
  return TollgateError.isInstance(error) && codes.includes(error.code);
}
