import type { BlockEntry } from "@tollgate/core";

/** Block entries are stored as JSON; `null` stands for an absent reason or end. */
export function serializeBlockEntry(entry: BlockEntry): string {
  return JSON.stringify([entry.key, entry.reason ?? null, entry.until ?? null, entry.createdAt]);
}

export function parseBlockEntry(text: string): BlockEntry {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed) || typeof parsed[0] !== "string" || typeof parsed[3] !== "number") {
    throw new Error(`Unexpected block entry in Redis: ${text}`);
  }
  const [key, reason, until, createdAt] = parsed as [string, unknown, unknown, number];
  return {
    key,
    reason: typeof reason === "string" ? reason : undefined,
    until: typeof until === "number" ? until : undefined,
    createdAt,
  };
}
