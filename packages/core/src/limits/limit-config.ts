/** Who a limit counts for. `key` is your own API's client key, never a provider key. */
export type LimitScope = "global" | "user" | "ip" | "key" | "tenant" | "session";

/** The scopes a subject can carry (every scope but `global`). */
export type SubjectScope = Exclude<LimitScope, "global">;

export const subjectScopes: readonly SubjectScope[] = ["user", "ip", "key", "tenant", "session"];

/** Measures counted over a window or period. `usd` is dollars; Tollgate counts it internally in nano-USD. */
export type CountedMeasure = "requests" | "tokens" | "inputTokens" | "outputTokens" | "usd";
export type LimitMeasure = CountedMeasure | "concurrent";

export const countedMeasures: readonly CountedMeasure[] = ["requests", "tokens", "inputTokens", "outputTokens", "usd"];

/** A calendar period, aligned to midnight (and Monday, and the 1st) in the limit's `timeZone`. */
export type CalendarPeriod = "day" | "week" | "month";

/** A rolling window such as `"30s"`, `"1m"`, `"1h"`, `"1d"` or `"500ms"`, or a number of milliseconds. */
export type Duration = `${number}${"ms" | "s" | "m" | "h" | "d"}` | number;

interface LimitCommon {
  /** Unique name of the limit; it appears in errors, alerts and store keys, so keep it stable. */
  id: string;
  scope: LimitScope;
  /** Model names or globs (`"gpt-4o*"`, `"claude-*"`) the limit applies to; all models when omitted. */
  models?: readonly string[];
  /** Fractions of the limit at which a budget alert fires, e.g. `[0.5, 0.8, 1]`. */
  alertAt?: readonly number[];
  /** `false` puts the limit in shadow mode: measured and reported, never refusing. Default `true`. */
  enforce?: boolean;
}

type MeasureAmount = {
  [M in CountedMeasure]: { [K in M]: number } & { [K in Exclude<LimitMeasure, M>]?: never };
}[CountedMeasure];

interface RollingWindow {
  /** Rolling window length. No burst at window edges: see the README on sliding windows. */
  per: Duration;
  period?: never;
  timeZone?: never;
}

interface CalendarWindow {
  period: CalendarPeriod;
  /** IANA time zone the period is aligned to. Default `"UTC"`. */
  timeZone?: string;
  per?: never;
}

/** A limit on a counted measure over a rolling window or a calendar period. */
export type RateLimit = LimitCommon & MeasureAmount & (RollingWindow | CalendarWindow);

/** A limit on calls in flight at once. */
export type ConcurrencyLimit = LimitCommon & { concurrent: number } & { [K in CountedMeasure]?: never } & {
  per?: never;
  period?: never;
  timeZone?: never;
};

export type Limit = RateLimit | ConcurrencyLimit;
