import type { FakeOperation } from "./fake-rules";
import type { FakeUsage } from "./fake-usage";
import type { RecordedRequest } from "./recorded-request";

/**
 * What one model costs on the fake's cost reports, USD per 1M tokens. Absent rates fall back as in
 * `@tollgate/core`'s prices: `cachedInput` and `cacheWrite` to `input`, `cacheWrite1h` to `cacheWrite`, then `input`.
 * So the same object can be given to `guardedClient({ prices })` and to `startFakeProviders({ prices })`.
 */
export interface FakePrice {
  /** Uncached input tokens. */
  input: number;
  /** Output tokens, reasoning tokens included. */
  output: number;
  /** Input tokens read from the prompt cache. */
  cachedInput?: number;
  /** Input tokens written to the prompt cache with the 5-minute lifetime. */
  cacheWrite?: number;
  /** Input tokens written to the prompt cache with the 1-hour lifetime. */
  cacheWrite1h?: number;
}

export const dayMs = 86_400_000;

/** The usage of one model within one UTC day, summed over the logged requests. */
export interface ModelDayUsage {
  model: string;
  requests: number;
  usage: Required<FakeUsage>;
}

/** One `1d` bucket of a report: the UTC midnight it starts at, and its usage per model (models in first-seen order). */
export interface DayBucket {
  startMs: number;
  models: ModelDayUsage[];
}

/** The buckets one page of a report holds, and where the next page starts (`undefined` on the last page). */
export interface ReportPage {
  dayStarts: number[];
  nextDayStart: number | undefined;
}

/** A report request the fake refuses, with the message of its 400 answer. */
export class ReportQueryError extends Error {}

/** UTC midnight at or before `timeMs`. */
export function startOfDay(timeMs: number): number {
  return Math.floor(timeMs / dayMs) * dayMs;
}

/**
 * The `1d` buckets of one page: from the UTC day of `startMs` (snapped to midnight, as both providers do), every day
 * that starts before `endMs`, resumed at `pageStart` and at most `limit` of them.
 */
export function reportPage(startMs: number, endMs: number, pageStart: number | undefined, limit: number): ReportPage {
  const dayStarts: number[] = [];
  let day = Math.max(startOfDay(startMs), pageStart ?? Number.NEGATIVE_INFINITY);
  while (day < endMs && dayStarts.length < limit) {
    dayStarts.push(day);
    day += dayMs;
  }
  return { dayStarts, nextDayStart: day < endMs ? day : undefined };
}

/**
 * Sums, per UTC day and model, the logged requests of `operations` whose usage was reported on the wire (the ones
 * a parser of the response could bill). `models` keeps only those model ids.
 */
export function dailyUsage(
  log: readonly RecordedRequest[],
  operations: ReadonlySet<FakeOperation>,
  dayStarts: readonly number[],
  models: ReadonlySet<string> | undefined,
): DayBucket[] {
  const buckets = new Map<number, Map<string, ModelDayUsage>>(dayStarts.map((start) => [start, new Map()]));
  for (const request of log) {
    if (request.usage === undefined || !operations.has(request.operation)) {
      continue;
    }
    const model = request.model ?? "unknown";
    if (models !== undefined && !models.has(model)) {
      continue;
    }
    const bucket = buckets.get(startOfDay(request.time));
    if (bucket === undefined) {
      continue;
    }
    let entry = bucket.get(model);
    if (entry === undefined) {
      entry = { model, requests: 0, usage: emptyUsage() };
      bucket.set(model, entry);
    }
    entry.requests += 1;
    for (const key of usageKeys) {
      entry.usage[key] += request.usage[key];
    }
  }
  return dayStarts.map((startMs) => ({ startMs, models: [...(buckets.get(startMs)?.values() ?? [])] }));
}

/** Usage summed over models: what a report answers when it is not grouped by model. */
export function totalUsage(models: readonly ModelDayUsage[]): { requests: number; usage: Required<FakeUsage> } {
  const total = { requests: 0, usage: emptyUsage() };
  for (const entry of models) {
    total.requests += entry.requests;
    for (const key of usageKeys) {
      total.usage[key] += entry.usage[key];
    }
  }
  return total;
}

/** The USD cost of each kind of token in `usage` at `price`, with core's fallbacks for absent rates. */
export function tokenCosts(
  usage: Required<FakeUsage>,
  price: FakePrice,
): Record<"input" | "cachedInput" | "cacheWrite" | "cacheWrite1h" | "output", number> {
  const cacheWriteRate = price.cacheWrite ?? price.input;
  const uncachedInput =
    usage.inputTokens - usage.cachedInputTokens - usage.cacheWriteInputTokens - usage.cacheWrite1hInputTokens;
  return {
    input: (uncachedInput * price.input) / 1e6,
    cachedInput: (usage.cachedInputTokens * (price.cachedInput ?? price.input)) / 1e6,
    cacheWrite: (usage.cacheWriteInputTokens * cacheWriteRate) / 1e6,
    cacheWrite1h: (usage.cacheWrite1hInputTokens * (price.cacheWrite1h ?? cacheWriteRate)) / 1e6,
    output: (usage.outputTokens * price.output) / 1e6,
  };
}

/** Every value of a list parameter, in any of the spellings clients use: `name=a&name=b`, `name[]=a`, `name=a,b`. */
export function listParameter(query: URLSearchParams, name: string): string[] {
  return [...query.getAll(name), ...query.getAll(`${name}[]`)]
    .flatMap((value) => value.split(","))
    .map((value) => value.trim())
    .filter((value) => value.length > 0);
}

/** The `limit` parameter: a whole number from 1 to `max`, `fallback` when absent. */
export function limitParameter(query: URLSearchParams, fallback: number, max: number): number {
  const raw = query.get("limit");
  if (raw === null) {
    return fallback;
  }
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new ReportQueryError(`limit must be an integer from 1 to ${max}`);
  }
  return limit;
}

/** Only `1d` buckets are served (the cost endpoints accept nothing else; the usage ones also take `1h`, `1m`). */
export function checkBucketWidth(query: URLSearchParams): void {
  const width = query.get("bucket_width");
  if (width !== null && width !== "1d") {
    throw new ReportQueryError(`bucket_width ${width} is not served by the fake (only 1d)`);
  }
}

/** Opaque page cursors in the providers' style: `page_` and the base64 of the next bucket's start. */
export function encodePageToken(text: string): string {
  return `page_${Buffer.from(text, "utf8").toString("base64")}`;
}

export function decodePageToken(token: string): string {
  if (!token.startsWith("page_")) {
    throw new ReportQueryError("page is not a cursor this fake returned");
  }
  return Buffer.from(token.slice("page_".length), "base64").toString("utf8");
}

function emptyUsage(): Required<FakeUsage> {
  return {
    inputTokens: 0,
    cachedInputTokens: 0,
    cacheWriteInputTokens: 0,
    cacheWrite1hInputTokens: 0,
    outputTokens: 0,
    reasoningTokens: 0,
  };
}

const usageKeys = [
  "inputTokens",
  "cachedInputTokens",
  "cacheWriteInputTokens",
  "cacheWrite1hInputTokens",
  "outputTokens",
  "reasoningTokens",
] as const satisfies ReadonlyArray<keyof FakeUsage>;
