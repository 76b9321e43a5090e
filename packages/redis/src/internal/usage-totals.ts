import {
  addUsageTotals,
  emptyUsageTotals,
  recordUsageTotals,
  type UsageGroupKey,
  type UsageQuery,
  type UsageRecord,
  type UsageRow,
  type UsageTotals,
  usageTotalFields,
} from "@tollgate/core";

export const dayMs = 86_400_000;

/** The subject and model dimensions a ledger row keeps (sessions are not kept apart, as in the memory store). */
export const dimensionKeys = ["provider", "model", "user", "ip", "key", "tenant"] as const;
export type DimensionKey = (typeof dimensionKeys)[number];
export type Dimensions = Record<DimensionKey, string | undefined>;

/** One stored aggregate: a UTC day, a dimension tuple and its totals. */
export interface DayAggregate {
  day: string;
  dimensions: Dimensions;
  totals: UsageTotals;
}

export function isoDay(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

/** The dimension tuple of a record, as stored in key names and index sets: a JSON array, `null` for absent. */
export function encodeDimensions(record: UsageRecord): string {
  return JSON.stringify(dimensionKeys.map((name) => record[name] ?? null));
}

export function decodeDimensions(text: string): Dimensions {
  const values: unknown = JSON.parse(text);
  const list = Array.isArray(values) ? values : [];
  const dimensions = {} as Dimensions;
  dimensionKeys.forEach((name, index) => {
    const value: unknown = list[index];
    dimensions[name] = typeof value === "string" ? value : undefined;
  });
  return dimensions;
}

/** What one record adds to its aggregate; zero fields are left out to keep hashes small. */
export function recordIncrements(record: UsageRecord): [string, number][] {
  return Object.entries(recordUsageTotals(record)).filter(([, value]) => value !== 0);
}

export function parseTotals(hash: Record<string, string>): UsageTotals {
  const totals = emptyUsageTotals();
  for (const field of usageTotalFields) {
    const value = hash[field];
    if (value !== undefined) totals[field] = Number(value);
  }
  return totals;
}

/** Filters by `where` and sums by `groupBy`, most expensive group first (as the memory store answers). */
export function groupUsage(aggregates: readonly DayAggregate[], query: UsageQuery): UsageRow[] {
  const groupBy = query.groupBy ?? [];
  const groups = new Map<string, UsageRow>();
  for (const aggregate of aggregates) {
    if (!matches(aggregate.dimensions, query.where)) continue;
    const group: Partial<Record<UsageGroupKey, string>> = {};
    for (const key of groupBy) {
      const value = key === "day" ? aggregate.day : aggregate.dimensions[key];
      if (value !== undefined) group[key] = value;
    }
    const groupKey = JSON.stringify(groupBy.map((key) => group[key] ?? null));
    let row = groups.get(groupKey);
    if (row === undefined) {
      row = { group, ...emptyUsageTotals() };
      groups.set(groupKey, row);
    }
    addUsageTotals(row, aggregate.totals);
  }
  return [...groups.values()].sort((left, right) => right.costNanoUsd - left.costNanoUsd);
}

function matches(dimensions: Dimensions, where: UsageQuery["where"]): boolean {
  if (where === undefined) return true;
  for (const name of dimensionKeys) {
    const value = where[name];
    if (value !== undefined && dimensions[name] !== value) return false;
  }
  return true;
}
