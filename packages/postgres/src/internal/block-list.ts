import type { BlockEntry } from "@tollgate/core";
import { replyNumber } from "./numbers";
import type { SchemaNames } from "./schema-names";
import type { Statement } from "./sql-client";
import { serverNowMs } from "./sql-fragments";

/** Sets (or replaces) a block entry. Times are kept as double precision, so an entry reads back exactly. */
export function blockStatement(names: SchemaNames, entry: BlockEntry): Statement {
  if (typeof entry.key !== "string") throw new TypeError("block entry key must be a string");
  if (!Number.isFinite(entry.createdAt)) throw new RangeError(`createdAt must be finite, got ${entry.createdAt}`);
  if (entry.until !== undefined && Number.isNaN(entry.until)) throw new RangeError("until must be a number");
  return {
    text: `INSERT INTO ${names.qualified("blocks")} AS entry (key, reason, until, created_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (key) DO UPDATE
             SET reason = excluded.reason, until = excluded.until, created_at = excluded.created_at`,
    values: [
      entry.key,
      entry.reason ?? null,
      entry.until === undefined || entry.until === Number.POSITIVE_INFINITY ? null : entry.until,
      entry.createdAt,
    ],
  };
}

export function unblockStatement(names: SchemaNames, key: string): Statement {
  return { text: `DELETE FROM ${names.qualified("blocks")} WHERE key = $1`, values: [key] };
}

/** Active entries, on the server's clock; ended ones are left to the sweep. */
export function listBlockedStatement(names: SchemaNames): Statement {
  return {
    text: `SELECT key, reason, until, created_at AS "createdAt" FROM ${names.qualified("blocks")}
            WHERE until IS NULL OR until > ${serverNowMs} ORDER BY key`,
    values: [],
  };
}

/** Reads an entry from a row of `listBlocked` or the admit function's reply (`key, reason, until, createdAt`). */
export function parseBlockEntry(value: object): BlockEntry {
  const entry = value as Record<string, unknown>;
  if (typeof entry.key !== "string") throw new Error(`Unexpected block entry from Postgres: ${JSON.stringify(value)}`);
  return {
    key: entry.key,
    reason: typeof entry.reason === "string" ? entry.reason : undefined,
    until: entry.until === null || entry.until === undefined ? undefined : replyNumber(entry.until, "block until"),
    createdAt: replyNumber(entry.createdAt, "block createdAt"),
  };
}
