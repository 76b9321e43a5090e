/** A count Redis can INCRBY exactly: a safe non-negative integer. */
export function nonNegativeInteger(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${field} must be a non-negative safe integer, got ${value}`);
  }
  return value;
}

/** A duration for PX/PEXPIRE: a finite positive number, rounded up to whole milliseconds. */
export function positiveMilliseconds(value: number, field: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${field} must be a positive number, got ${value}`);
  return Math.ceil(value);
}
