import { createHash } from "node:crypto";

/** Fields that change nothing about what a request asks the model (delivery options and bookkeeping). */
const ignoredFields = new Set([
  "stream",
  "stream_options",
  "user",
  "metadata",
  "store",
  "service_tier",
  "httpOptions",
  "abortSignal",
]);

/**
 * A stable hash of what a request asks: model and body, with keys sorted and delivery-only fields left out, so the
 * same prompt sent again (by a retry loop, an agent stuck in a cycle) hashes the same.
 */
export function requestFingerprint(model: string, params: unknown): string {
  const hash = createHash("sha256");
  hash.update(model);
  hash.update("\u0000");
  hash.update(canonicalJson(params, 0));
  return hash.digest("base64url").slice(0, 22);
}

function canonicalJson(value: unknown, depth: number): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item, depth + 1)).join(",")}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined && typeof record[key] !== "function")
    .filter((key) => depth > 1 || !ignoredFields.has(key))
    .sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key], depth + 1)}`).join(",")}}`;
}
