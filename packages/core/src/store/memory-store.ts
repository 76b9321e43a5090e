import { ConfigurationError } from "../errors/configuration-error";
import {
  type AlertLogEntry,
  type AlertLogQuery,
  defaultAlertLogMaxEntries,
  defaultAlertLogRetentionMs,
} from "./alert-log";
import { MemoryAlertLog } from "./memory-alert-log";
import { RecentIds } from "./recent-ids";
import type {
  AdmitRequest,
  AdmitResult,
  BlockEntry,
  CounterCharge,
  SettleRequest,
  TollgateStore,
  UsageQuery,
  UsageRecord,
  UsageRow,
} from "./store";
import { UsageAggregates } from "./usage-aggregates";

export interface MemoryStoreOptions {
  /** Epoch-ms clock; inject a fake one in tests. Default `Date.now`. */
  clock?: () => number;
  /** How long a reservation stays settleable after its lease expired. Default one hour. */
  settleGraceMs?: number;
  /** Ledger retention. Default 35 days. */
  ledgerRetentionMs?: number;
  /** Most entries the alert log keeps; the oldest go first. Default 10,000. */
  alertLogMaxEntries?: number;
  /** Alert log entries this much older than the one being recorded are dropped. Default 400 days. */
  alertLogRetentionMs?: number;
}

interface SlidingCounter {
  kind: "sliding";
  slotMs: number;
  slots: number;
  /** Slot indexes in ascending order, and the amount charged in each. */
  indexes: number[];
  amounts: number[];
}

interface FixedCounter {
  kind: "fixed";
  value: number;
  endsAt: number;
}

interface ConcurrencyCounter {
  kind: "concurrency";
  /** Reservation id → lease expiry. */
  holders: Map<string, number>;
}

type Counter = SlidingCounter | FixedCounter | ConcurrencyCounter;

interface ReservedCharge {
  key: string;
  amount: number;
  /** Slot the charge landed in (sliding counters only). */
  slotIndex: number;
}

interface Reservation {
  charges: ReservedCharge[];
  leaseExpiresAt: number;
}

const sweepEveryOperations = 4_096;
const sweepEveryMs = 60_000;
/** How long a recorded id is remembered: the store contract's 10 minutes. */
const recordedIdMemoryMs = 600_000;

/**
 * The embedded default store: one process, synchronous and therefore atomic. Expired state is dropped lazily on
 * access and by a sweep every few thousand operations or every minute of clock time, so memory follows the number
 * of active subjects, not the number of subjects ever seen.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): TollgateStore {
  return new MemoryStore(options);
}

class MemoryStore implements TollgateStore {
  private readonly clock: () => number;
  private readonly settleGraceMs: number;
  private readonly counters = new Map<string, Counter>();
  private readonly reservations = new Map<string, Reservation>();
  private readonly blocks = new Map<string, BlockEntry>();
  private readonly markers = new Map<string, number>();
  private readonly ledger: UsageAggregates;
  /** Ids of the records written in the last 10 minutes, which a second write of the same record must not count. */
  private readonly recordedIds = new RecentIds(recordedIdMemoryMs);
  private readonly alertLog: MemoryAlertLog;
  private operationsSinceSweep = 0;
  private lastSweepAt: number;

  constructor(options: MemoryStoreOptions) {
    this.clock = options.clock ?? Date.now;
    this.settleGraceMs = options.settleGraceMs ?? 3_600_000;
    this.ledger = new UsageAggregates(options.ledgerRetentionMs ?? 35 * 86_400_000);
    this.alertLog = new MemoryAlertLog(
      positiveInteger(options.alertLogMaxEntries, "alertLogMaxEntries", defaultAlertLogMaxEntries),
      positiveInteger(options.alertLogRetentionMs, "alertLogRetentionMs", defaultAlertLogRetentionMs),
    );
    this.lastSweepAt = this.clock();
  }

  admit(request: AdmitRequest): Promise<AdmitResult> {
    return Promise.resolve(this.admitNow(request));
  }

  private admitNow(request: AdmitRequest): AdmitResult {
    const now = this.clock();
    this.maybeSweep(now);
    for (const blockKey of request.blockKeys) {
      const entry = this.activeBlock(blockKey, now);
      if (entry !== undefined) return { admitted: false, now, refusal: { kind: "blocked", entry } };
    }
    const charges = request.charges;
    const usedBefore = new Array<number>(charges.length);
    const shadowRefusals: number[] = [];
    for (let index = 0; index < charges.length; index++) {
      const charge = charges[index]!;
      const used = this.usage(charge, now);
      usedBefore[index] = used;
      if (used + charge.amount <= charge.capacity) continue;
      if (!charge.enforce) {
        shadowRefusals.push(index);
        continue;
      }
      return {
        admitted: false,
        now,
        refusal: { kind: "limit", chargeIndex: index, used, retryAfterMs: this.retryAfterMs(charge, used, now) },
      };
    }
    const usedAfter = charges.map((charge, index) => usedBefore[index]! + charge.amount);
    if (request.dryRun === true) return { admitted: true, now, shadowRefusals, usedAfter };

    const leaseExpiresAt = now + request.leaseMs;
    const reserved: ReservedCharge[] = [];
    for (const charge of charges) reserved.push(this.apply(charge, request.reservationId, leaseExpiresAt, now));
    this.reservations.set(request.reservationId, { charges: reserved, leaseExpiresAt });
    return { admitted: true, now, shadowRefusals, usedAfter };
  }

  settle(request: SettleRequest): Promise<void> {
    const reservation = this.reservations.get(request.reservationId);
    if (reservation === undefined) return Promise.resolve();
    this.reservations.delete(request.reservationId);
    const now = this.clock();
    reservation.charges.forEach((charge, index) => {
      const counter = this.counters.get(charge.key);
      if (counter === undefined) return;
      const delta = (request.amounts[index] ?? charge.amount) - charge.amount;
      if (counter.kind === "concurrency") {
        counter.holders.delete(request.reservationId);
      } else if (counter.kind === "fixed") {
        // A period that has ended is gone: a refund must not land in the next one.
        if (now < counter.endsAt) counter.value = Math.max(0, counter.value + delta);
      } else {
        adjustSlot(counter, charge.slotIndex, delta, now);
      }
    });
    return Promise.resolve();
  }

  extendLease(reservationId: string, leaseMs: number): Promise<boolean> {
    const reservation = this.reservations.get(reservationId);
    const now = this.clock();
    if (reservation === undefined || reservation.leaseExpiresAt <= now) return Promise.resolve(false);
    reservation.leaseExpiresAt = now + leaseMs;
    for (const charge of reservation.charges) {
      const counter = this.counters.get(charge.key);
      if (counter?.kind === "concurrency" && counter.holders.has(reservationId)) {
        counter.holders.set(reservationId, reservation.leaseExpiresAt);
      }
    }
    return Promise.resolve(true);
  }

  record(record: UsageRecord): Promise<void> {
    const now = this.clock();
    this.maybeSweep(now);
    if (record.id === undefined || this.recordedIds.claim(record.id, now)) this.ledger.add(record);
    return Promise.resolve();
  }

  queryUsage(query: UsageQuery): Promise<UsageRow[]> {
    return Promise.resolve(this.ledger.query(query));
  }

  block(entry: BlockEntry): Promise<void> {
    this.blocks.set(entry.key, entry);
    return Promise.resolve();
  }

  unblock(key: string): Promise<void> {
    this.blocks.delete(key);
    return Promise.resolve();
  }

  listBlocked(): Promise<BlockEntry[]> {
    const now = this.clock();
    return Promise.resolve([...this.blocks.keys()].flatMap((key) => this.activeBlock(key, now) ?? []));
  }

  markOnce(key: string, ttlMs: number): Promise<boolean> {
    const now = this.clock();
    const expiresAt = this.markers.get(key);
    if (expiresAt !== undefined && expiresAt > now) return Promise.resolve(false);
    this.markers.set(key, now + ttlMs);
    return Promise.resolve(true);
  }

  async recordAlert(entry: AlertLogEntry): Promise<void> {
    this.alertLog.record(entry);
  }

  async listAlerts(query: AlertLogQuery = {}): Promise<AlertLogEntry[]> {
    return this.alertLog.list(query);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private activeBlock(key: string, now: number): BlockEntry | undefined {
    const entry = this.blocks.get(key);
    if (entry === undefined) return undefined;
    if (entry.until !== undefined && entry.until <= now) {
      this.blocks.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Current usage of the counter a charge targets, with expired parts dropped. */
  private usage(charge: CounterCharge, now: number): number {
    const counter = this.counters.get(charge.key);
    if (counter === undefined) return 0;
    if (counter.kind === "fixed") {
      if (now >= counter.endsAt) {
        this.counters.delete(charge.key);
        return 0;
      }
      return counter.value;
    }
    if (counter.kind === "sliding") {
      dropExpiredSlots(counter, now);
      let sum = 0;
      for (const amount of counter.amounts) sum += amount;
      return sum;
    }
    for (const [holder, leaseExpiresAt] of counter.holders) {
      if (leaseExpiresAt <= now) counter.holders.delete(holder);
    }
    return counter.holders.size;
  }

  private retryAfterMs(charge: CounterCharge, used: number, now: number): number | undefined {
    if (charge.amount > charge.capacity) return undefined;
    const window = charge.window;
    if (window.kind === "fixed") return window.endsAt - now;
    const counter = this.counters.get(charge.key);
    if (counter?.kind === "sliding") {
      // Walk the oldest slots until enough has left the window for this charge to fit.
      let remaining = used;
      for (let index = 0; index < counter.indexes.length; index++) {
        remaining -= counter.amounts[index]!;
        if (remaining + charge.amount <= charge.capacity) {
          return (counter.indexes[index]! + counter.slots + 1) * counter.slotMs - now;
        }
      }
      return undefined;
    }
    if (counter?.kind === "concurrency") {
      // The earliest lease expiry bounds the wait; a settle usually frees a slot much sooner.
      let earliest = Number.POSITIVE_INFINITY;
      for (const leaseExpiresAt of counter.holders.values()) earliest = Math.min(earliest, leaseExpiresAt);
      return Number.isFinite(earliest) ? earliest - now : undefined;
    }
    return undefined;
  }

  private apply(charge: CounterCharge, reservationId: string, leaseExpiresAt: number, now: number): ReservedCharge {
    const window = charge.window;
    let counter = this.counters.get(charge.key);
    if (window.kind === "concurrency") {
      if (counter?.kind !== "concurrency") {
        counter = { kind: "concurrency", holders: new Map() };
        this.counters.set(charge.key, counter);
      }
      counter.holders.set(reservationId, leaseExpiresAt);
      return { key: charge.key, amount: charge.amount, slotIndex: 0 };
    }
    if (window.kind === "fixed") {
      if (counter?.kind !== "fixed") {
        counter = { kind: "fixed", value: 0, endsAt: window.endsAt };
        this.counters.set(charge.key, counter);
      }
      counter.value += charge.amount;
      return { key: charge.key, amount: charge.amount, slotIndex: 0 };
    }
    const slotMs = Math.max(1, Math.floor(window.windowMs / window.slots));
    if (counter?.kind !== "sliding" || counter.slotMs !== slotMs) {
      counter = { kind: "sliding", slotMs, slots: window.slots, indexes: [], amounts: [] };
      this.counters.set(charge.key, counter);
    }
    const slotIndex = Math.floor(now / slotMs);
    // Usually the newest slot; after the clock stepped back, an older one: the slots stay in ascending order.
    let position = counter.indexes.length;
    while (position > 0 && counter.indexes[position - 1]! > slotIndex) position--;
    if (position > 0 && counter.indexes[position - 1] === slotIndex) {
      counter.amounts[position - 1]! += charge.amount;
    } else {
      counter.indexes.splice(position, 0, slotIndex);
      counter.amounts.splice(position, 0, charge.amount);
    }
    return { key: charge.key, amount: charge.amount, slotIndex };
  }

  private maybeSweep(now: number): void {
    if (++this.operationsSinceSweep < sweepEveryOperations && now - this.lastSweepAt < sweepEveryMs) return;
    this.operationsSinceSweep = 0;
    this.lastSweepAt = now;
    for (const [key, counter] of this.counters) {
      if (isExpired(counter, now)) this.counters.delete(key);
    }
    for (const [id, reservation] of this.reservations) {
      if (reservation.leaseExpiresAt + this.settleGraceMs <= now) this.reservations.delete(id);
    }
    for (const [key, expiresAt] of this.markers) {
      if (expiresAt <= now) this.markers.delete(key);
    }
    for (const key of this.blocks.keys()) this.activeBlock(key, now);
    this.recordedIds.sweep(now);
    this.ledger.prune(now);
  }
}

function positiveInteger(value: number | undefined, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ConfigurationError(field, `must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/** First slot index still (partly) inside the window at `now`. */
function firstLiveSlot(counter: SlidingCounter, now: number): number {
  return Math.floor(now / counter.slotMs) - counter.slots;
}

function dropExpiredSlots(counter: SlidingCounter, now: number): void {
  const first = firstLiveSlot(counter, now);
  let drop = 0;
  while (drop < counter.indexes.length && counter.indexes[drop]! < first) drop++;
  if (drop > 0) {
    counter.indexes.splice(0, drop);
    counter.amounts.splice(0, drop);
  }
}

/** Applies a settlement delta to the slot the reservation landed in, only while that slot is still in the window. */
function adjustSlot(counter: SlidingCounter, slotIndex: number, delta: number, now: number): void {
  if (slotIndex < firstLiveSlot(counter, now)) return;
  const position = counter.indexes.indexOf(slotIndex);
  if (position === -1) return;
  counter.amounts[position] = Math.max(0, counter.amounts[position]! + delta);
}

function isExpired(counter: Counter, now: number): boolean {
  if (counter.kind === "fixed") return now >= counter.endsAt;
  if (counter.kind === "sliding") {
    const newest = counter.indexes[counter.indexes.length - 1];
    return newest === undefined || newest < firstLiveSlot(counter, now);
  }
  for (const [holder, leaseExpiresAt] of counter.holders) {
    if (leaseExpiresAt <= now) counter.holders.delete(holder);
  }
  return counter.holders.size === 0;
}
