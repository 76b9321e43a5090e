import type { ReconcileMismatchAlert } from "../alerts/alert";
import { ConfigurationError } from "../errors/configuration-error";
import { NANO_USD_PER_USD } from "../pricing/cost";
import type { TollgateStore } from "../store/store";
import { type AnthropicReconcileOptions, readAnthropicUsage } from "./reconcile-anthropic";
import { type OpenAIReconcileOptions, readOpenAIUsage } from "./reconcile-openai";
import { type ProviderReport, utcDay } from "./report-pages";

/** The providers whose own usage reports Tollgate can read (Google publishes none outside Cloud Billing). */
export type ReconciledProvider = "openai" | "anthropic";

export interface ReconcileOptions {
  /** First day compared; rounded down to 00:00 UTC, because the reports come in whole UTC days. */
  since: Date;
  /** End of the range (exclusive); rounded up to the next 00:00 UTC. Default: now, so today is compared too. */
  until?: Date;
  /** The guard's store: its ledger is what the reports are compared with. */
  store: TollgateStore;
  /** Reconcile OpenAI spend, read with an organization admin key. */
  openai?: OpenAIReconcileOptions;
  /** Reconcile Anthropic spend, read with an Admin API key. */
  anthropic?: AnthropicReconcileOptions;
  /** Unaccounted tokens per model and day that never count as suspicious. Default 1000. */
  toleranceTokens?: number;
  /** Unaccounted USD per model and day that never counts as suspicious. Default 0.01. */
  toleranceUsd?: number;
  /** Unaccounted share of the ledger's own tokens (and USD) that never counts as suspicious. Default 0.02. */
  toleranceFraction?: number;
  /** Used for every report request. Default the global `fetch`. */
  fetch?: typeof fetch;
  /** Epoch-ms clock for the default `until` and the alerts' `time`. Default `Date.now`. */
  clock?: () => number;
}

/** One provider, model and UTC day, as the provider reported it and as the ledger holds it. */
export interface ReconcileRow {
  provider: ReconciledProvider;
  /**
   * The model without a date snapshot or `-latest` suffix (`gpt-4o-mini-2024-07-18` and `gpt-4o-mini` are both
   * `gpt-4o-mini`): reports name the snapshot that served a call, the ledger the name the caller asked for.
   */
  model: string;
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  /** What the provider's reports say. `usd` is `undefined` when its cost report was not read. */
  reported: { tokens: number; usd: number | undefined; requests: number | undefined };
  /** What the guard's ledger holds (`usd` at Tollgate's prices). */
  ledger: { tokens: number; usd: number; requests: number };
  /** `reported.tokens - ledger.tokens`: positive when the provider saw more than the guard. */
  unaccountedTokens: number;
  /** `reported.usd - ledger.usd`, `undefined` when `reported.usd` is. */
  unaccountedUsd: number | undefined;
  /** More unaccounted tokens or USD than the tolerances allow. */
  suspicious: boolean;
}

export interface ReconcileReport {
  /** The whole UTC days compared: `[since, until)`. */
  since: Date;
  until: Date;
  /** One row per provider, model and day seen in a report or in the ledger, by day, provider and model. */
  providers: ReconcileRow[];
  /** Some row is suspicious. */
  suspicious: boolean;
  /** One `reconcile.mismatch` alert per suspicious row, ready for alert sinks. */
  alerts: ReconcileMismatchAlert[];
}

const dayMs = 86_400_000;
const defaultToleranceTokens = 1000;
const defaultToleranceUsd = 0.01;
const defaultToleranceFraction = 0.02;

/**
 * Compares the providers' own usage (and cost) reports with the guard's ledger, per provider, model and UTC day.
 * Spend a provider reports beyond what the guard recorded means the key is used outside the guard: a leaked key, or
 * another application sharing it.
 *
 * A row is suspicious when the provider counted more tokens than the ledger by more than
 * `max(toleranceTokens, toleranceFraction × ledger tokens)`, or billed more USD by more than
 * `max(toleranceUsd, toleranceFraction × ledger USD)`. The tolerances absorb what the guard legitimately cannot see:
 * calls still in flight or settling when the reports are read; aborted streams and calls without usage, which the
 * ledger holds as estimates; calls whose response was lost after the provider billed them (the ledger records a
 * failed call as zero tokens); calls near midnight that the guard's and the provider's clocks put on different days;
 * and, for USD, the distance between Tollgate's price table and the provider's invoice (discounts, tiers, rounding).
 * Less spend on the provider's side (its reports lag by minutes to hours) never counts.
 *
 * Rows whose tokens are zero on both sides (spend the reports attribute to no model, such as tool calls) are listed
 * but never suspicious: the guard meters tokens only.
 *
 * @throws ConfigurationError for invalid options (never naming a key).
 * @throws ReconcileError when a report cannot be read; its message never contains the admin key.
 */
export async function reconcile(options: ReconcileOptions): Promise<ReconcileReport> {
  const settings = resolveOptions(options);
  const window = { startMs: settings.startMs, endMs: settings.endMs, fetch: settings.fetch };
  const [openaiReport, anthropicReport, ledgerRows] = await Promise.all([
    options.openai === undefined ? undefined : readOpenAIUsage(options.openai, window),
    options.anthropic === undefined ? undefined : readAnthropicUsage(options.anthropic, window),
    options.store.queryUsage({
      since: settings.startMs,
      until: settings.endMs,
      groupBy: ["provider", "model", "day"],
    }),
  ]);

  const rows = new Map<string, ReconcileRow>();
  const rowFor = (provider: ReconciledProvider, model: string, day: string): ReconcileRow => {
    const family = modelFamily(model);
    const key = JSON.stringify([day, provider, family]);
    let row = rows.get(key);
    if (row === undefined) {
      row = {
        provider,
        model: family,
        day,
        reported: { tokens: 0, usd: undefined, requests: undefined },
        ledger: { tokens: 0, usd: 0, requests: 0 },
        unaccountedTokens: 0,
        unaccountedUsd: undefined,
        suspicious: false,
      };
      rows.set(key, row);
    }
    return row;
  };
  const addReported = (provider: ReconciledProvider, report: ProviderReport | undefined) => {
    for (const usage of report?.days ?? []) {
      if (usage.day < utcDay(settings.startMs) || usage.day >= utcDay(settings.endMs)) continue;
      const row = rowFor(provider, usage.model, usage.day);
      row.reported.tokens += usage.inputTokens + usage.outputTokens;
      if (usage.requests !== undefined) row.reported.requests = (row.reported.requests ?? 0) + usage.requests;
      if (usage.costUsd !== undefined) row.reported.usd = (row.reported.usd ?? 0) + usage.costUsd;
    }
  };
  addReported("openai", openaiReport);
  addReported("anthropic", anthropicReport);

  const costsRead = { openai: openaiReport?.costsRead === true, anthropic: anthropicReport?.costsRead === true };
  for (const ledger of ledgerRows) {
    const provider = ledger.group.provider;
    if (provider !== "openai" && provider !== "anthropic") continue;
    if (options[provider] === undefined) continue;
    const row = rowFor(provider, ledger.group.model ?? "unknown", ledger.group.day ?? utcDay(settings.startMs));
    row.ledger.tokens += ledger.inputTokens + ledger.outputTokens;
    row.ledger.usd += ledger.costNanoUsd / NANO_USD_PER_USD;
    row.ledger.requests += ledger.requests;
    // A model the provider's reports do not list at all cost nothing there, when the cost report was read.
    if (row.reported.usd === undefined && costsRead[provider]) row.reported.usd = 0;
  }

  const now = settings.clock();
  const providers = [...rows.values()].sort(compareRows);
  const alerts: ReconcileMismatchAlert[] = [];
  for (const row of providers) {
    if (row.reported.usd !== undefined) row.reported.usd = roundUsd(row.reported.usd);
    row.ledger.usd = roundUsd(row.ledger.usd);
    row.unaccountedTokens = row.reported.tokens - row.ledger.tokens;
    row.unaccountedUsd = row.reported.usd === undefined ? undefined : roundUsd(row.reported.usd - row.ledger.usd);
    const tokenAllowance = Math.max(settings.toleranceTokens, settings.toleranceFraction * row.ledger.tokens);
    const usdAllowance = Math.max(settings.toleranceUsd, settings.toleranceFraction * row.ledger.usd);
    const meteredTokens = row.reported.tokens > 0 || row.ledger.tokens > 0;
    row.suspicious =
      row.unaccountedTokens > tokenAllowance ||
      (meteredTokens && row.unaccountedUsd !== undefined && row.unaccountedUsd > usdAllowance);
    if (row.suspicious) {
      alerts.push({
        type: "reconcile.mismatch",
        provider: row.provider,
        model: row.model,
        day: row.day,
        unaccountedTokens: row.unaccountedTokens,
        unaccountedUsd: row.unaccountedUsd,
        time: new Date(now),
      });
    }
  }
  return {
    since: new Date(settings.startMs),
    until: new Date(settings.endMs),
    providers,
    suspicious: alerts.length > 0,
    alerts,
  };
}

/**
 * The name both sides agree on: lower case, without a `-latest`, `-YYYY-MM-DD`, `-YYYYMMDD` or `-MMDD` snapshot
 * suffix. `gpt-4o-mini-2024-07-18` → `gpt-4o-mini`, `claude-sonnet-4-5-20250929` → `claude-sonnet-4-5`.
 */
export function modelFamily(model: string): string {
  return model
    .trim()
    .toLowerCase()
    .replace(/-(?:latest|\d{4}-\d{2}-\d{2}|\d{8}|\d{4})$/, "");
}

interface ResolvedReconcileOptions {
  startMs: number;
  endMs: number;
  toleranceTokens: number;
  toleranceUsd: number;
  toleranceFraction: number;
  fetch: typeof fetch;
  clock: () => number;
}

function resolveOptions(options: ReconcileOptions): ResolvedReconcileOptions {
  if (typeof options !== "object" || options === null) {
    throw new ConfigurationError("reconcile", "needs an options object");
  }
  const clock = options.clock ?? Date.now;
  const since = validTime(options.since, "since");
  const until = options.until === undefined ? clock() : validTime(options.until, "until");
  const startMs = Math.floor(since / dayMs) * dayMs;
  const endMs = Math.ceil(until / dayMs) * dayMs;
  if (endMs <= startMs) throw new ConfigurationError("until", "must be after since");
  if (typeof options.store?.queryUsage !== "function") {
    throw new ConfigurationError("store", "must be a Tollgate store");
  }
  if (options.openai === undefined && options.anthropic === undefined) {
    throw new ConfigurationError("openai", "or anthropic must be given: an admin key to read the provider's reports");
  }
  for (const provider of ["openai", "anthropic"] as const) {
    const source = options[provider];
    if (source === undefined) continue;
    if (typeof source.adminKey !== "string" || source.adminKey.trim().length === 0) {
      throw new ConfigurationError(`${provider}.adminKey`, "must be a non-empty admin key");
    }
    if (source.baseURL !== undefined && !isHttpUrl(source.baseURL)) {
      throw new ConfigurationError(`${provider}.baseURL`, "must be an absolute http(s) URL");
    }
  }
  const fetchFunction = options.fetch ?? globalThis.fetch;
  if (typeof fetchFunction !== "function") throw new ConfigurationError("fetch", "must be a fetch function");
  return {
    startMs,
    endMs,
    toleranceTokens: tolerance(options.toleranceTokens, defaultToleranceTokens, "toleranceTokens"),
    toleranceUsd: tolerance(options.toleranceUsd, defaultToleranceUsd, "toleranceUsd"),
    toleranceFraction: tolerance(options.toleranceFraction, defaultToleranceFraction, "toleranceFraction"),
    fetch: fetchFunction,
    clock,
  };
}

function validTime(value: unknown, field: string): number {
  const time = value instanceof Date ? value.getTime() : Number.NaN;
  if (Number.isNaN(time)) throw new ConfigurationError(field, "must be a valid Date");
  return time;
}

function tolerance(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || Number.isNaN(value) || value < 0) {
    throw new ConfigurationError(field, "must be a number ≥ 0 (Infinity turns the check off)");
  }
  return value;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:";
  } catch {
    return false;
  }
}

/** USD rounded to the nano-dollar, so float noise from summed report amounts never reads as spend. */
function roundUsd(usd: number): number {
  return Math.round(usd * NANO_USD_PER_USD) / NANO_USD_PER_USD;
}

function compareRows(left: ReconcileRow, right: ReconcileRow): number {
  return (
    left.day.localeCompare(right.day) ||
    left.provider.localeCompare(right.provider) ||
    left.model.localeCompare(right.model)
  );
}
