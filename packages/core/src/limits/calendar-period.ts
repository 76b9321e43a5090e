import type { CalendarPeriod } from "./limit-config";

/** One concrete calendar period: its id (used in store keys) and its bounds as epoch milliseconds. */
export interface PeriodWindow {
  id: string;
  startsAt: number;
  endsAt: number;
}

interface LocalDate {
  year: number;
  month: number; // 1-12
  day: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** `true` when the runtime knows the IANA time zone. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** Offset of `timeZone` from UTC at the instant `epochMs`, in milliseconds (positive east of Greenwich). */
function zoneOffsetMs(epochMs: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(epochMs))) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  const asUtc = Date.UTC(
    parts.year ?? 1970,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  );
  return asUtc - (epochMs - (((epochMs % 1000) + 1000) % 1000));
}

function localDate(epochMs: number, timeZone: string): LocalDate {
  const shifted = new Date(epochMs + zoneOffsetMs(epochMs, timeZone));
  return { year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate() };
}

/**
 * The instant local midnight begins on `date` in `timeZone`. Two passes settle the offset across a DST change;
 * where midnight itself does not exist (a few zones skip it), the first instant of the day is used.
 */
function startOfLocalDay(date: LocalDate, timeZone: string): number {
  const naive = Date.UTC(date.year, date.month - 1, date.day);
  let guess = naive - zoneOffsetMs(naive, timeZone);
  guess = naive - zoneOffsetMs(guess, timeZone);
  return guess;
}

function addDays(date: LocalDate, days: number): LocalDate {
  const shifted = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate() };
}

function pad(value: number): string {
  return String(value).padStart(2, "0");
}

/** The calendar period containing `epochMs`. Weeks start on Monday (ISO 8601). */
export function periodWindow(period: CalendarPeriod, timeZone: string, epochMs: number): PeriodWindow {
  const today = localDate(epochMs, timeZone);
  let first: LocalDate;
  let next: LocalDate;
  let id: string;
  if (period === "day") {
    first = today;
    next = addDays(today, 1);
    id = `${today.year}-${pad(today.month)}-${pad(today.day)}`;
  } else if (period === "week") {
    const weekday = (new Date(Date.UTC(today.year, today.month - 1, today.day)).getUTCDay() + 6) % 7; // Monday = 0
    first = addDays(today, -weekday);
    next = addDays(first, 7);
    id = `${first.year}-${pad(first.month)}-${pad(first.day)}w`;
  } else {
    first = { year: today.year, month: today.month, day: 1 };
    next = today.month === 12 ? { year: today.year + 1, month: 1, day: 1 } : { ...first, month: today.month + 1 };
    id = `${today.year}-${pad(today.month)}`;
  }
  return { id, startsAt: startOfLocalDay(first, timeZone), endsAt: startOfLocalDay(next, timeZone) };
}

/**
 * Caches the current window per (period, time zone): the Intl arithmetic runs once per period change, not on
 * every call.
 */
export class PeriodWindowCache {
  private readonly current = new Map<string, PeriodWindow>();

  get(period: CalendarPeriod, timeZone: string, epochMs: number): PeriodWindow {
    const cacheKey = `${period} ${timeZone}`;
    const cached = this.current.get(cacheKey);
    if (cached !== undefined && epochMs >= cached.startsAt && epochMs < cached.endsAt) return cached;
    const window = periodWindow(period, timeZone, epochMs);
    this.current.set(cacheKey, window);
    return window;
  }
}
