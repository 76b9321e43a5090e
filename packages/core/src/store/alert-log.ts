import type { TollgateAlert } from "../alerts/alert";

/** `Date` fields as ISO-8601 strings, everything else as it is: the JSON form of one alert type. */
type WithIsoDates<Alert> = { [Field in keyof Alert]: Alert[Field] extends Date ? string : Alert[Field] };

/**
 * An alert as the alert log keeps it: the `TollgateAlert` with its dates (`time`, and `exhaustedAt` and
 * `periodEndsAt` of a projection) as ISO-8601 strings, so it survives JSON unchanged in every store. Fields that were
 * `undefined` are absent. It holds what alerts hold: limit ids, scopes, subject values, model names, periods and
 * amounts; never a provider key.
 */
export type LoggedAlert = TollgateAlert extends infer Alert
  ? Alert extends unknown
    ? WithIsoDates<Alert>
    : never
  : never;

/** One delivered alert in a store's alert log. */
export interface AlertLogEntry {
  /** When the alert fired, epoch ms (an integer): the alert's own `time`. The log is ordered and queried by it. */
  time: number;
  alert: LoggedAlert;
}

export interface AlertLogQuery {
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, exclusive. */
  until?: number;
  /** At most this many entries: the newest ones. Default: all that the log holds in the range. */
  limit?: number;
}

/**
 * The most entries a store's alert log keeps by default; recording one more drops the oldest. About 0.3–1 KB each,
 * so a full log is a few MB at most.
 */
export const defaultAlertLogMaxEntries = 10_000;
/** Entries this much older than the entry being recorded are dropped by default (400 days: a year and its month). */
export const defaultAlertLogRetentionMs = 400 * 86_400_000;

/** The log entry of an alert: its time in epoch ms, and the alert as JSON data (dates as ISO strings). */
export function alertLogEntry(alert: TollgateAlert): AlertLogEntry {
  // `JSON.stringify` turns each Date into its ISO string and drops undefined fields: exactly `LoggedAlert`.
  return { time: alert.time.getTime(), alert: JSON.parse(JSON.stringify(alert)) as LoggedAlert };
}

/** The alert of a log entry, with its dates as `Date` again: what sinks received, e.g. for `describeAlert`. */
export function alertFromLogEntry(entry: AlertLogEntry): TollgateAlert {
  const logged = entry.alert;
  if (logged.type === "budget.projected") {
    return {
      ...logged,
      time: new Date(logged.time),
      exhaustedAt: new Date(logged.exhaustedAt),
      periodEndsAt: new Date(logged.periodEndsAt),
    };
  }
  return { ...logged, time: new Date(logged.time) };
}

/** Checks an entry before a store keeps it; throws `RangeError` / `TypeError` for one no store could round-trip. */
export function checkAlertLogEntry(entry: AlertLogEntry): void {
  if (!Number.isSafeInteger(entry.time))
    throw new RangeError(`alert log time must be integer epoch ms, got ${entry.time}`);
  if (typeof entry.alert !== "object" || entry.alert === null || typeof entry.alert.type !== "string") {
    throw new TypeError("alert log entry must hold an alert object with a type");
  }
}

/** Checks a query's numbers; throws `RangeError` for a limit that is not a non-negative integer. */
export function checkAlertLogQuery(query: AlertLogQuery): void {
  if (query.limit !== undefined && !(Number.isSafeInteger(query.limit) && query.limit >= 0)) {
    throw new RangeError(`limit must be a non-negative integer, got ${query.limit}`);
  }
  for (const field of ["since", "until"] as const) {
    const value = query[field];
    if (value !== undefined && Number.isNaN(value)) throw new RangeError(`${field} must be a number, got NaN`);
  }
}
