import type { UsageGroupKey, UsageQuery, UsageRecord, UsageRow } from "./store";
import { addUsageTotals, emptyUsageTotals, recordUsageTotals } from "./usage-totals";

const hourMs = 3_600_000;
const dimensionKeys = ["provider", "model", "user", "ip", "key", "tenant"] as const;

interface Aggregate extends UsageRow {
  hourStart: number;
  dimensions: Record<(typeof dimensionKeys)[number], string | undefined>;
}

/**
 * The memory store's ledger: one aggregate per hour, provider, model and subject (sessions are not kept apart),
 * so memory follows active subjects per hour instead of calls. Queries match `since`/`until` at hour granularity.
 */
export class UsageAggregates {
  private readonly rows = new Map<string, Aggregate>();

  constructor(private readonly retentionMs: number) {}

  add(record: UsageRecord): void {
    const hourStart = Math.floor(record.time / hourMs) * hourMs;
    const dimensions = {
      provider: record.provider,
      model: record.model,
      user: record.user,
      ip: record.ip,
      key: record.key,
      tenant: record.tenant,
    };
    const rowKey = JSON.stringify([hourStart, ...dimensionKeys.map((name) => dimensions[name] ?? null)]);
    let row = this.rows.get(rowKey);
    if (row === undefined) {
      row = { hourStart, dimensions, group: {}, ...emptyUsageTotals() };
      this.rows.set(rowKey, row);
    }
    addUsageTotals(row, recordUsageTotals(record));
  }

  query(query: UsageQuery): UsageRow[] {
    const groupBy = query.groupBy ?? [];
    const groups = new Map<string, UsageRow>();
    for (const row of this.rows.values()) {
      if (query.since !== undefined && row.hourStart + hourMs <= query.since) continue;
      if (query.until !== undefined && row.hourStart >= query.until) continue;
      if (!matches(row, query.where)) continue;
      const group: Partial<Record<UsageGroupKey, string>> = {};
      for (const key of groupBy) {
        const value = key === "day" ? new Date(row.hourStart).toISOString().slice(0, 10) : row.dimensions[key];
        if (value !== undefined) group[key] = value;
      }
      const groupKey = JSON.stringify(groupBy.map((key) => group[key] ?? null));
      let target = groups.get(groupKey);
      if (target === undefined) {
        target = { group, ...emptyUsageTotals() };
        groups.set(groupKey, target);
      }
      addUsageTotals(target, row);
    }
    return [...groups.values()].sort((left, right) => right.costNanoUsd - left.costNanoUsd);
  }

  prune(now: number): void {
    for (const [key, row] of this.rows) {
      if (row.hourStart + hourMs + this.retentionMs <= now) this.rows.delete(key);
    }
  }
}

function matches(row: Aggregate, where: UsageQuery["where"]): boolean {
  if (where === undefined) return true;
  for (const [key, value] of Object.entries(where)) {
    if (value !== undefined && row.dimensions[key as keyof Aggregate["dimensions"]] !== value) return false;
  }
  return true;
}
