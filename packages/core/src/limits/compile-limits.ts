import { ConfigurationError } from "../errors/configuration-error";
import { isValidTimeZone } from "./calendar-period";
import { parseDuration } from "./duration";
import {
  type CalendarPeriod,
  type CountedMeasure,
  countedMeasures,
  type Limit,
  type LimitMeasure,
  type LimitScope,
} from "./limit-config";
import { compileModelFilter } from "./model-glob";

/** Slots per rolling window: a call counts while its slot overlaps the window, so the window is W to 1.05 W. */
export const slotsPerWindow = 20;

const nanoUsdPerUsd = 1_000_000_000;
const scopes: readonly LimitScope[] = ["global", "user", "ip", "key", "tenant", "session"];
const periods: readonly CalendarPeriod[] = ["day", "week", "month"];
const limitIdPattern = /^[\w.:-]{1,64}$/;

export type CompiledWindow =
  | { kind: "sliding"; windowMs: number }
  | { kind: "calendar"; period: CalendarPeriod; timeZone: string }
  | { kind: "concurrency" };

/** A validated limit in the units the store counts: USD become integer nano-USD. */
export interface CompiledLimit {
  id: string;
  scope: LimitScope;
  measure: LimitMeasure;
  /** Capacity in store units (nano-USD for `usd`). */
  capacity: number;
  /** The capacity as the user wrote it (USD for `usd`), for errors and alerts. */
  displayCapacity: number;
  window: CompiledWindow;
  enforce: boolean;
  alertAt: readonly number[];
  appliesTo: (model: string) => boolean;
}

/** Turns a store amount back into the limit's own unit (USD for `usd`). */
export function toDisplayUnits(limit: CompiledLimit, amount: number): number {
  return limit.measure === "usd" ? amount / nanoUsdPerUsd : amount;
}

export function toStoreUnits(measure: LimitMeasure, amount: number): number {
  return measure === "usd" ? Math.round(amount * nanoUsdPerUsd) : amount;
}

/** Validates the `limits` option and compiles it. Throws `ConfigurationError` naming the first bad field. */
export function compileLimits(limits: unknown): CompiledLimit[] {
  if (limits === undefined) return [];
  if (!Array.isArray(limits)) throw new ConfigurationError("limits", "must be an array of limits");
  const seen = new Set<string>();
  return limits.map((limit: unknown, index) => {
    const field = `limits[${index}]`;
    const compiled = compileLimit(limit, field);
    if (seen.has(compiled.id)) throw new ConfigurationError(`${field}.id`, `duplicate limit id "${compiled.id}"`);
    seen.add(compiled.id);
    return compiled;
  });
}

function compileLimit(input: unknown, field: string): CompiledLimit {
  if (typeof input !== "object" || input === null) throw new ConfigurationError(field, "must be an object");
  const limit = input as Partial<Limit> & Record<string, unknown>;
  const known = new Set([
    "id",
    "scope",
    "models",
    "alertAt",
    "enforce",
    "per",
    "period",
    "timeZone",
    "concurrent",
    ...countedMeasures,
  ]);
  for (const name of Object.keys(limit)) {
    if (!known.has(name)) throw new ConfigurationError(`${field}.${name}`, "is not a limit option");
  }
  if (typeof limit.id !== "string" || !limitIdPattern.test(limit.id)) {
    throw new ConfigurationError(`${field}.id`, "must be 1-64 characters of letters, digits, '_', '.', ':' or '-'");
  }
  if (typeof limit.scope !== "string" || !scopes.includes(limit.scope as LimitScope)) {
    throw new ConfigurationError(`${field}.scope`, `must be one of ${scopes.join(", ")}`);
  }
  const measures = [...countedMeasures, "concurrent" as const].filter((name) => limit[name] !== undefined);
  if (measures.length !== 1) {
    throw new ConfigurationError(
      field,
      measures.length === 0
        ? "needs one measure: requests, tokens, inputTokens, outputTokens, usd or concurrent"
        : `has ${measures.join(" and ")}: give exactly one measure per limit`,
    );
  }
  const measure = measures[0]!;
  const amount = limit[measure];
  if (typeof amount !== "number" || !Number.isFinite(amount) || amount < 0) {
    throw new ConfigurationError(`${field}.${measure}`, "must be a finite number ≥ 0");
  }
  if (measure !== "usd" && !Number.isInteger(amount)) {
    throw new ConfigurationError(`${field}.${measure}`, "must be a whole number");
  }
  const window = compileWindow(limit, field, measure);
  const enforce = limit.enforce ?? true;
  if (typeof enforce !== "boolean") throw new ConfigurationError(`${field}.enforce`, "must be a boolean");
  const alertAt = limit.alertAt ?? [];
  if (!Array.isArray(alertAt) || alertAt.some((value) => typeof value !== "number" || !(value > 0 && value <= 1))) {
    throw new ConfigurationError(`${field}.alertAt`, "must be an array of fractions in (0, 1]");
  }
  const models = limit.models;
  if (models !== undefined && (!Array.isArray(models) || models.some((model) => typeof model !== "string"))) {
    throw new ConfigurationError(`${field}.models`, "must be an array of model names or globs");
  }
  return {
    id: limit.id,
    scope: limit.scope as LimitScope,
    measure,
    capacity: toStoreUnits(measure, amount),
    displayCapacity: amount,
    window,
    enforce,
    alertAt: [...alertAt].sort((left, right) => left - right),
    appliesTo: compileModelFilter(models),
  };
}

function compileWindow(limit: Record<string, unknown>, field: string, measure: LimitMeasure): CompiledWindow {
  if (measure === "concurrent") {
    for (const name of ["per", "period", "timeZone"]) {
      if (limit[name] !== undefined) throw new ConfigurationError(`${field}.${name}`, "does not apply to `concurrent`");
    }
    return { kind: "concurrency" };
  }
  if (limit.per !== undefined && limit.period !== undefined) {
    throw new ConfigurationError(field, "has both `per` and `period`: choose a rolling window or a calendar period");
  }
  if (limit.per !== undefined) {
    if (limit.timeZone !== undefined) throw new ConfigurationError(`${field}.timeZone`, "needs `period`, not `per`");
    const windowMs = parseDuration(limit.per as string);
    if (windowMs === undefined || windowMs < slotsPerWindow) {
      throw new ConfigurationError(`${field}.per`, 'must be a duration such as "30s", "1m", "1h" (at least 20ms)');
    }
    return { kind: "sliding", windowMs };
  }
  if (limit.period !== undefined) {
    if (!periods.includes(limit.period as CalendarPeriod)) {
      throw new ConfigurationError(`${field}.period`, `must be one of ${periods.join(", ")}`);
    }
    const timeZone = limit.timeZone ?? "UTC";
    if (typeof timeZone !== "string" || !isValidTimeZone(timeZone)) {
      throw new ConfigurationError(`${field}.timeZone`, `unknown time zone ${JSON.stringify(timeZone)}`);
    }
    return { kind: "calendar", period: limit.period as CalendarPeriod, timeZone };
  }
  throw new ConfigurationError(field, 'needs a window: `per` (e.g. "1m") or `period` ("day", "week", "month")');
}

/** The measures a set of limits needs estimated; `usd` means a price is needed. */
export function measuresNeeded(limits: readonly CompiledLimit[]): Set<CountedMeasure | "concurrent"> {
  return new Set(limits.map((limit) => limit.measure));
}
