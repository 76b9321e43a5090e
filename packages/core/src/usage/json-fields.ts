/**
 * Narrowing helpers for JSON of unknown shape. Provider bodies are never trusted: a field of the wrong type reads as
 * absent, and nothing here throws.
 */

/** A plain JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `value` when it is a JSON object, otherwise `undefined`. */
export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return isRecord(value) ? value : undefined;
}

/** `value` when it is an array, otherwise an empty array. */
export function asArray(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A token count: a finite, non-negative number. Anything else (null, a string, NaN, -1) is unknown. */
export function readCount(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** The length of `value` in UTF-16 code units when it is a string, otherwise 0. */
export function textLength(value: unknown): number {
  return typeof value === "string" ? value.length : 0;
}

/** The length of `value` serialised as JSON (for tool-call arguments sent as objects), 0 when absent. */
export function jsonLength(value: unknown): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === "string") return value.length;
  try {
    return JSON.stringify(value)?.length ?? 0;
  } catch {
    return 0;
  }
}

/** `JSON.parse` that returns `undefined` instead of throwing on malformed input. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
