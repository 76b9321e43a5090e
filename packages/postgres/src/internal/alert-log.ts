import {
  type AlertLogEntry,
  type AlertLogQuery,
  checkAlertLogEntry,
  checkAlertLogQuery,
  type LoggedAlert,
} from "@tollgate/core";
import { replyNumber } from "./numbers";
import type { SchemaNames } from "./schema-names";
import type { Row, Statement } from "./sql-client";

export interface AlertLogBounds {
  maxEntries: number;
  retentionMs: number;
}

/**
 * The `<prefix>alerts` table, created by migration 2: one row per delivered alert, `time timestamptz` (ms precision
 * kept, like the usage ledger), `type`, and the alert as `json` (not `jsonb`, which refuses `\u0000`, and a subject
 * value may hold one).
 */
export function alertLogTableSql(names: SchemaNames): string[] {
  return [
    `CREATE TABLE ${names.qualified("alerts")} (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      time timestamptz NOT NULL,
      type text NOT NULL,
      alert json NOT NULL
    )`,
    `CREATE INDEX ${names.local("alerts_time_idx")} ON ${names.qualified("alerts")} (time, id)`,
  ];
}

/** Rows past the bounds deleted per record, at most: a log is trimmed by one row per record in the steady state. */
const trimBatch = 1_000;

/**
 * Appends an entry and, in the same statement, deletes the rows past the bounds: those recorded `maxEntries` or more
 * inserts before it (by id: the oldest recorded go first) and those older than the retention before its time. Each
 * deletion walks an index from its oldest end (`ORDER BY … LIMIT`), so it reads only the rows it deletes, however
 * large the log.
 */
export function recordAlertStatement(names: SchemaNames, entry: AlertLogEntry, bounds: AlertLogBounds): Statement {
  checkAlertLogEntry(entry);
  const alerts = names.qualified("alerts");
  return {
    text: `WITH inserted AS (
             INSERT INTO ${alerts} (time, type, alert)
             VALUES (to_timestamp($1::double precision / 1000), $2, $3::json) RETURNING id)
           DELETE FROM ${alerts}
            WHERE id = ANY (ARRAY(
              (SELECT id FROM ${alerts} WHERE id <= (SELECT id FROM inserted) - $4::bigint ORDER BY id LIMIT ${trimBatch})
              UNION ALL
              (SELECT id FROM ${alerts} WHERE time < to_timestamp(($1::double precision - $5::double precision) / 1000)
                ORDER BY time LIMIT ${trimBatch})))`,
    values: [entry.time, entry.alert.type, JSON.stringify(entry.alert), bounds.maxEntries, bounds.retentionMs],
  };
}

/** Newest first (ties by the order recorded, newest first), within `since`/`until`, at most `limit`. */
export function listAlertsStatement(names: SchemaNames, query: AlertLogQuery): Statement {
  checkAlertLogQuery(query);
  const values: unknown[] = [];
  const conditions: string[] = [];
  if (query.since !== undefined) {
    values.push(query.since);
    conditions.push(`time >= to_timestamp($${values.length}::double precision / 1000)`);
  }
  if (query.until !== undefined) {
    values.push(query.until);
    conditions.push(`time < to_timestamp($${values.length}::double precision / 1000)`);
  }
  let limit = "";
  if (query.limit !== undefined) {
    values.push(query.limit);
    limit = `LIMIT $${values.length}::bigint`;
  }
  return {
    text: `SELECT (extract(epoch FROM time) * 1000)::double precision AS epoch_ms, alert::text AS alert
             FROM ${names.qualified("alerts")}
            ${conditions.length === 0 ? "" : `WHERE ${conditions.join(" AND ")}`}
            ORDER BY time DESC, id DESC ${limit}`,
    values,
  };
}

export function parseAlertRows(rows: readonly Row[]): AlertLogEntry[] {
  return rows.map((row) => {
    if (typeof row.alert !== "string")
      throw new Error(`Unexpected alert log row from Postgres: ${JSON.stringify(row)}`);
    return { time: replyNumber(row.epoch_ms, "alert time"), alert: JSON.parse(row.alert) as LoggedAlert };
  });
}
