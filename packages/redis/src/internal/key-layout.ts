import type { CounterCharge } from "@tollgate/core";

/**
 * Builds every Redis key of a store as `{<prefix>}<kind>:<rest>`. The whole prefix is the Cluster hash tag, so all
 * keys of a store live in one slot: one call mixes per-user, per-tenant and global counters, and a counter's name
 * must not depend on which call touches it. Keys handed over by the core are opaque and appended as they are.
 */
export class KeyLayout {
  private readonly root: string;

  constructor(prefix: string) {
    this.root = `{${prefix}}`;
  }

  /**
   * The counter a charge targets; sliding counters include their slot length, so a new window shape starts afresh.
   * (`window:`, not the `sliding:` of 0.1.0, whose hashes had no running total: the two layouts never share a key.)
   */
  counter(charge: CounterCharge): string {
    const window = charge.window;
    if (window.kind === "sliding") return `${this.root}window:${slotMs(window.windowMs, window.slots)}:${charge.key}`;
    if (window.kind === "fixed") return `${this.root}fixed:${charge.key}`;
    return `${this.root}inflight:${charge.key}`;
  }

  reservation(reservationId: string): string {
    return `${this.root}reservation:${reservationId}`;
  }

  block(key: string): string {
    return `${this.root}block:${key}`;
  }

  /** Sorted set of blocked keys scored by their end (`+inf` for none), for `listBlocked`. */
  blockIndex(): string {
    return `${this.root}blocks`;
  }

  marker(key: string): string {
    return `${this.root}once:${key}`;
  }

  /** Totals of one UTC day and one dimension tuple. */
  usage(day: string, dimensions: string): string {
    return `${this.root}usage:${day}:${dimensions}`;
  }

  /** Set of the dimension tuples recorded on one UTC day. */
  usageIndex(day: string): string {
    return `${this.root}usage-index:${day}`;
  }

  /** Sorted set of the recorded UTC days, scored by day number. */
  usageDays(): string {
    return `${this.root}usage-days`;
  }

  /** Marker of a usage record written lately, by its id: a second write of the same record counts nothing. */
  recordedId(recordId: string): string {
    return `${this.root}recorded:${recordId}`;
  }
}

/** Slot length of a sliding window, as the memory store computes it. */
export function slotMs(windowMs: number, slots: number): number {
  return Math.max(1, Math.floor(windowMs / slots));
}
