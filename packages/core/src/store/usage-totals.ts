import type { UsageRecord, UsageRow } from "./store";

/** The summable part of a usage row: everything but its group. */
export type UsageTotals = Omit<UsageRow, "group">;

/** Totals of nothing. The one place that lists the fields: stores and reports sum over `usageTotalFields`. */
export function emptyUsageTotals(): UsageTotals {
  return {
    requests: 0,
    inputTokens: 0,
    cachedInputTokens: 0,
    cacheWriteInputTokens: 0,
    outputTokens: 0,
    reasoningTokens: 0,
    costNanoUsd: 0,
    estimatedRequests: 0,
    errorRequests: 0,
  };
}

/** The fields of `UsageTotals`, in a fixed order (the store hashes and SQL of the ledger use these names). */
export const usageTotalFields = Object.keys(emptyUsageTotals()) as readonly (keyof UsageTotals)[];

/** Adds `source` into `target`, field by field. */
export function addUsageTotals(target: UsageTotals, source: UsageTotals): void {
  for (const field of usageTotalFields) target[field] += source[field];
}

/** What one settled call adds to the totals of its group. */
export function recordUsageTotals(record: UsageRecord): UsageTotals {
  return {
    requests: 1,
    inputTokens: record.inputTokens,
    cachedInputTokens: record.cachedInputTokens,
    cacheWriteInputTokens: record.cacheWriteInputTokens,
    outputTokens: record.outputTokens,
    reasoningTokens: record.reasoningTokens,
    costNanoUsd: record.costNanoUsd,
    estimatedRequests: record.estimated ? 1 : 0,
    errorRequests: record.status === "error" ? 1 : 0,
  };
}
