/** A count Postgres stores exactly in a bigint and JavaScript in a number: a safe non-negative integer. */
export function nonNegativeInteger(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${field} must be a non-negative safe integer, got ${value}`);
  }
  return value;
}

/** A duration: a finite positive number, rounded up to whole milliseconds. */
export function positiveMilliseconds(value: number, field: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${field} must be a positive number, got ${value}`);
  return Math.ceil(value);
}

/** A reply field the store's own SQL returns as a number. */
export function replyNumber(value: unknown, field: string): number {
  const number = typeof value === "string" ? Number(value) : value;
  if (typeof number !== "number" || Number.isNaN(number)) {
    throw new Error(`Unexpected ${field} from Postgres: ${JSON.stringify(value)}`);
  }
  return number;
}
