import type { UsageGroupKey, UsageQuery, UsageRecord, UsageRow } from "@tollgate/core";
import { nonNegativeInteger, replyNumber } from "./numbers";
import type { SchemaNames } from "./schema-names";
import type { Row, Statement } from "./sql-client";

/** The column each group key and `where` filter reads. `day` is the UTC calendar day of the call's time. */
const groupColumns: Record<UsageGroupKey, string> = {
  user: "subject_user",
  ip: "subject_ip",
  key: "subject_key",
  tenant: "subject_tenant",
  model: "model",
  provider: "provider",
  day: `to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
};

const tokenFields = [
  ["inputTokens", "input_tokens"],
  ["cachedInputTokens", "cached_input_tokens"],
  ["cacheWriteInputTokens", "cache_write_input_tokens"],
  ["outputTokens", "output_tokens"],
  ["reasoningTokens", "reasoning_tokens"],
  ["costNanoUsd", "cost_nano_usd"],
] as const;

/**
 * Migration 3: the `call_id` of each usage row (null for rows written before it, and for records without an id), with
 * a unique index on the non-null ones, which makes a second insert of the same call a no-op (`recordStatement`).
 * Adding a nullable column without a default rewrites no row; building the index reads the ledger once, and the
 * ledger table stays locked until the migration commits (ledger writes and reads wait; admissions and settlements
 * do not touch it).
 */
export function usageCallIdSql(names: SchemaNames): string[] {
  const usage = names.qualified("usage");
  return [
    `ALTER TABLE ${usage} ADD COLUMN call_id text`,
    `CREATE UNIQUE INDEX ${names.local("usage_call_id_idx")} ON ${usage} (call_id) WHERE call_id IS NOT NULL`,
  ];
}

/**
 * One row per settled call, appended; the time is stored as timestamptz (ms precision kept). A record whose id is
 * already in the ledger (a retried write whose first attempt was applied) inserts nothing: the conflict on the
 * unique `call_id` index is ignored, also between two concurrent inserts. Records without an id always insert.
 */
export function recordStatement(names: SchemaNames, record: UsageRecord): Statement {
  if (!Number.isFinite(record.time)) throw new RangeError(`record.time must be finite, got ${record.time}`);
  const counts = tokenFields.map(([field]) => nonNegativeInteger(record[field], `record.${field}`));
  return {
    text: `INSERT INTO ${names.qualified("usage")} (time, provider, model, operation,
             subject_user, subject_ip, subject_key, subject_tenant, subject_session,
             input_tokens, cached_input_tokens, cache_write_input_tokens, output_tokens, reasoning_tokens, cost_nano_usd,
             estimated, status, latency_ms, call_id)
           VALUES (to_timestamp($1::double precision / 1000), $2, $3, $4, $5, $6, $7, $8, $9,
                   $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
           ON CONFLICT (call_id) WHERE call_id IS NOT NULL DO NOTHING`,
    values: [
      record.time,
      record.provider,
      record.model,
      record.operation,
      record.user ?? null,
      record.ip ?? null,
      record.key ?? null,
      record.tenant ?? null,
      record.session ?? null,
      ...counts,
      record.estimated === true,
      record.status,
      Math.max(0, Math.round(record.latencyMs)),
      record.id ?? null,
    ],
  };
}

/**
 * Sums the ledger by `groupBy`, most expensive group first. `since`/`until` are exact to the millisecond (the
 * memory store matches by hour, the Redis store by UTC day). Served by the time index, or by a (scope, time)
 * index when `where` names a user, ip, key or tenant.
 */
export function usageQueryStatement(names: SchemaNames, query: UsageQuery): Statement {
  const groupBy = [...new Set(query.groupBy ?? [])];
  for (const key of groupBy) {
    if (!(key in groupColumns)) throw new RangeError(`groupBy: unknown key ${JSON.stringify(key)}`);
  }
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
  for (const [key, value] of Object.entries(query.where ?? {})) {
    if (value === undefined) continue;
    const column = key in groupColumns && key !== "day" ? groupColumns[key as UsageGroupKey] : undefined;
    if (column === undefined) throw new RangeError(`where: unknown key ${JSON.stringify(key)}`);
    values.push(value);
    conditions.push(`${column} = $${values.length}`);
  }
  const groups = groupBy.map((key, index) => `${groupColumns[key]} AS group_${index}`);
  const sums = tokenFields.map(([field, column]) => `sum(${column})::double precision AS "${field}"`);
  const groupPositions = groupBy.map((_, index) => String(index + 1));
  const text = `SELECT ${[
    ...groups,
    `count(*)::double precision AS requests`,
    ...sums,
    `(count(*) FILTER (WHERE estimated))::double precision AS "estimatedRequests"`,
    `(count(*) FILTER (WHERE status = 'error'))::double precision AS "errorRequests"`,
  ].join(", ")}
  FROM ${names.qualified("usage")}
  ${conditions.length === 0 ? "" : `WHERE ${conditions.join(" AND ")}`}
  ${groupPositions.length === 0 ? "" : `GROUP BY ${groupPositions.join(", ")}`}
  ${groupPositions.length === 0 ? "HAVING count(*) > 0" : ""}
  ORDER BY "costNanoUsd" DESC${groupPositions.length === 0 ? "" : `, ${groupPositions.join(", ")}`}`;
  return { text, values };
}

export function parseUsageRows(rows: readonly Row[], query: UsageQuery): UsageRow[] {
  const groupBy = [...new Set(query.groupBy ?? [])];
  return rows.map((row) => {
    const group: Partial<Record<UsageGroupKey, string>> = {};
    groupBy.forEach((key, index) => {
      const value = row[`group_${index}`];
      if (typeof value === "string") group[key] = value;
    });
    return {
      group,
      requests: replyNumber(row.requests, "requests"),
      inputTokens: replyNumber(row.inputTokens, "inputTokens"),
      cachedInputTokens: replyNumber(row.cachedInputTokens, "cachedInputTokens"),
      cacheWriteInputTokens: replyNumber(row.cacheWriteInputTokens, "cacheWriteInputTokens"),
      outputTokens: replyNumber(row.outputTokens, "outputTokens"),
      reasoningTokens: replyNumber(row.reasoningTokens, "reasoningTokens"),
      costNanoUsd: replyNumber(row.costNanoUsd, "costNanoUsd"),
      estimatedRequests: replyNumber(row.estimatedRequests, "estimatedRequests"),
      errorRequests: replyNumber(row.errorRequests, "errorRequests"),
    };
  });
}
