import type { Duration } from "./limit-config";

const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const durationPattern = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** Milliseconds of a `Duration`, or `undefined` when it is not one (the caller names the field in its error). */
export function parseDuration(duration: Duration | string): number | undefined {
  if (typeof duration === "number") return Number.isFinite(duration) && duration > 0 ? duration : undefined;
  const match = durationPattern.exec(duration);
  if (!match) return undefined;
  const milliseconds = Number(match[1]) * unitMs[match[2] as keyof typeof unitMs];
  return milliseconds >= 1 ? Math.round(milliseconds) : undefined;
}
