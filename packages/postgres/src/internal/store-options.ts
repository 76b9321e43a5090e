import { ConfigurationError } from "@tollgate/core";

export const defaultSettleGraceMs = 3_600_000;
export const defaultLedgerRetentionMs = 35 * 86_400_000;
export const defaultSweepIntervalMs = 60_000;

/** An integer option of at least `minimum`; `allowInfinity` admits `Infinity` (meaning "never"). */
export function integerOption(
  value: number | undefined,
  field: string,
  fallback: number,
  minimum: number,
  allowInfinity = false,
): number {
  if (value === undefined) return fallback;
  if (allowInfinity && value === Number.POSITIVE_INFINITY) return value;
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw new ConfigurationError(
      field,
      `must be an integer of at least ${minimum}${allowInfinity ? " (or Infinity)" : ""}, got ${String(value)}`,
    );
  }
  return value;
}

export function durabilityOption(value: unknown): "durable" | "relaxed" {
  if (value === undefined || value === "durable") return "durable";
  if (value === "relaxed") return "relaxed";
  throw new ConfigurationError("durability", `must be "durable" or "relaxed", got ${JSON.stringify(value)}`);
}
