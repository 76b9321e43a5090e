/** Narrows parsed JSON to a plain object, the only shape the fake reads fields from. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
