import { type AlertLogEntry, type AlertLogQuery, checkAlertLogEntry, checkAlertLogQuery } from "./alert-log";

interface KeptEntry {
  time: number;
  /** The alert as JSON: the log holds a copy the caller cannot change, and answers as the other stores do. */
  alert: string;
}

/**
 * The memory store's alert log: entries sorted by time, at most `maxEntries` of them (the oldest go first), none more
 * than `retentionMs` older than the entry being recorded. Memory is bounded by `maxEntries` × an entry's size.
 */
export class MemoryAlertLog {
  /** Oldest first; an entry goes after those with the same time. */
  private readonly entries: KeptEntry[] = [];

  constructor(
    private readonly maxEntries: number,
    private readonly retentionMs: number,
  ) {}

  record(entry: AlertLogEntry): void {
    checkAlertLogEntry(entry);
    const kept = { time: entry.time, alert: JSON.stringify(entry.alert) };
    this.entries.splice(this.firstAfter(entry.time), 0, kept);
    const expired = this.firstAtOrAfter(entry.time - this.retentionMs);
    const excess = this.entries.length - this.maxEntries;
    const drop = Math.max(expired, excess);
    if (drop > 0) this.entries.splice(0, drop);
  }

  list(query: AlertLogQuery): AlertLogEntry[] {
    checkAlertLogQuery(query);
    const start = query.since === undefined ? 0 : this.firstAtOrAfter(query.since);
    const end = query.until === undefined ? this.entries.length : this.firstAtOrAfter(query.until);
    const count = Math.max(0, Math.min(end - start, query.limit ?? Number.POSITIVE_INFINITY));
    const found: AlertLogEntry[] = [];
    for (let index = end - 1; index >= end - count; index--) {
      const kept = this.entries[index]!;
      found.push({ time: kept.time, alert: JSON.parse(kept.alert) as AlertLogEntry["alert"] });
    }
    return found;
  }

  /** Index of the first entry whose time is at least `time`. */
  private firstAtOrAfter(time: number): number {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.entries[middle]!.time < time) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Index of the first entry whose time is later than `time`. */
  private firstAfter(time: number): number {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.entries[middle]!.time <= time) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
