import { createHash } from "node:crypto";

/** 64 bits: collisions between the handful of keys in one project are out of reach, and the line stays short. */
const fingerprintLength = 16;

/**
 * The first 16 hex digits of the key's SHA-256. Stable across runs and files, so an allow list can name a test key
 * without containing it; a truncated hash of a random 40+ character key gives nothing back to someone reading it.
 */
export function fingerprintKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex").slice(0, fingerprintLength);
}
