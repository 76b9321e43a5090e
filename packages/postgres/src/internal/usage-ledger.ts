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

/** One row per settled call, appended; the time is stored as timestamptz (ms precision kept). */
export function recordStatement(names: SchemaNames, record: UsageRecord): Statement {
  if (!Number.isFinite(record.time)) throw new RangeError(`record.time must be finite, got ${record.time}`);
  const counts = tokenFields.map(([field]) => nonNegativeInteger(record[field], `record.${field}`));
  return {
    text: `INSERT INTO ${names.qualified("usage")} (time, provider, model, operation,
             subject_user, subject_ip, subject_key, subject_tenant, subject_session,
             input_tokens, cached_input_tokens, cache_write_input_tokens, output_tokens, reasoning_tokens, cost_nano_usd,
             estimated, status, latency_ms)
           VALUES (to_timestamp($1::double precision / 1000), $2, $3, $4, $5, $6, $7, $8, $9,
                   $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
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
