import type { AdmitRequest, AdmitResult, BlockEntry, CounterCharge, SettleRequest } from "@tollgate/core";

/**
 * The reference model the stores are compared with: a few maps and the rules of the memory store, written for
 * clarity, not speed. It knows nothing of a clock; each operation is told when it ran on the store's clock.
 *
 * How boundaries are handled on a server clock (Redis, Postgres), where the test cannot choose the time: rather than
 * skipping comparisons near a slot edge or a lease end, the model is told the time and stays exact wherever it can.
 * - Admission is evaluated at the `now` the store answered with, so it is compared exactly, to the millisecond,
 *   also at slot edges, period ends, lease ends and block ends.
 * - Other operations return no time, so they get a `ClockReading`: the span [from, to] in which the store read its
 *   clock (a single instant for an injected clock; the local time before and after the round trip for a server on
 *   this machine, which shares the system clock). A settlement is applied at `to` (see `settle` for why that is
 *   exact). `extendLease` and `listBlocked` accept either answer when a lease or block ends inside the span.
 * - A lease moved by `extendLease` is then only known to end somewhere in a span. The model carries that span; an
 *   admission whose concurrency count depends on it accepts the answer of each possibility, and the answer seen
 *   narrows the span.
 */

/** When an operation read the store's clock: somewhere in [from, to] (from === to when known exactly). */
export interface ClockReading {
  from: number;
  to: number;
}

/** Expiry of a lease, known to lie in [earliest, latest]. */
interface Lease {
  earliest: number;
  latest: number;
}

interface SlidingCounter {
  kind: "sliding";
  slotMs: number;
  slots: number;
  /** Slot index → amount charged in it (a slot charged 0 exists, with 0). */
  amounts: Map<number, number>;
}

interface FixedCounter {
  kind: "fixed";
  endsAt: number;
  value: number;
}

interface ConcurrencyCounter {
  kind: "concurrency";
  /** Reservation ids holding a slot; their lease is the reservation's. */
  holders: Set<string>;
}

type Counter = SlidingCounter | FixedCounter | ConcurrencyCounter;

interface ReservedCharge {
  key: string;
  kind: CounterCharge["window"]["kind"];
  amount: number;
  /** Sliding: the slot the charge landed in. */
  slot: number;
  /** Fixed: the end of the period the charge counts in. */
  endsAt: number;
}

interface Reservation {
  charges: ReservedCharge[];
  lease: Lease;
}

/** A retry delay the model expects: exact, or within a span when a lease end is only known within one. */
export interface RetryRange {
  min: number;
  max: number;
}

export type ExpectedAdmit =
  | { admitted: true; shadowRefusals: number[]; usedAfter: number[] }
  | {
      admitted: false;
      refusal: { kind: "limit"; chargeIndex: number; used: number; retryAfterMs: RetryRange | undefined };
    }
  | { admitted: false; refusal: { kind: "blocked"; entry: BlockEntry } };

/** Slot length as every store computes it. */
export function slotLength(windowMs: number, slots: number): number {
  return Math.max(1, Math.floor(windowMs / slots));
}

/** The first slot index still (partly) inside a sliding window at `now`. */
export function firstLiveSlot(now: number, slotMs: number, slots: number): number {
  return Math.floor(now / slotMs) - slots;
}

export class ReferenceStore {
  private readonly counters = new Map<string, Counter>();
  private readonly reservations = new Map<string, Reservation>();
  private readonly blocks = new Map<string, BlockEntry>();

  /**
   * Every answer the store may give to `request` at `now`: one, unless a lease end known only within a span makes
   * a concurrency count depend on where in the span it lies.
   */
  expectAdmit(request: AdmitRequest, now: number): ExpectedAdmit[] {
    for (const blockKey of request.blockKeys) {
      const entry = this.blocks.get(blockKey);
      if (entry !== undefined && (entry.until === undefined || entry.until > now)) {
        return [{ admitted: false, refusal: { kind: "blocked", entry } }];
      }
    }
    const expectations: ExpectedAdmit[] = [];
    for (const alive of this.worlds(request, now)) {
      const expected = this.expectInWorld(request, now, alive);
      if (!expectations.some((known) => sameExpectation(known, expected))) expectations.push(expected);
    }
    return expectations;
  }

  /** Applies an admission the store answered `result` to (which must be one of `expectAdmit`'s answers). */
  applyAdmit(request: AdmitRequest, result: AdmitResult): void {
    const now = result.now;
    this.narrowLeases(request, result);
    if (!result.admitted || request.dryRun === true) return;
    const lease: Lease = { earliest: now + request.leaseMs, latest: now + request.leaseMs };
    const reserved: ReservedCharge[] = [];
    for (const charge of request.charges) {
      const window = charge.window;
      const base = { key: charge.key, kind: window.kind, amount: charge.amount, slot: 0, endsAt: 0 };
      if (window.kind === "sliding") {
        const counter = this.sliding(charge.key, window.windowMs, window.slots);
        const slot = Math.floor(now / counter.slotMs);
        counter.amounts.set(slot, (counter.amounts.get(slot) ?? 0) + charge.amount);
        reserved.push({ ...base, slot });
      } else if (window.kind === "fixed") {
        // A charge whose own period has ended counts nowhere; an ended counter starts again with this period.
        if (now < window.endsAt) {
          const counter = this.counters.get(charge.key);
          if (counter?.kind === "fixed" && now < counter.endsAt) counter.value += charge.amount;
          else this.counters.set(charge.key, { kind: "fixed", endsAt: window.endsAt, value: charge.amount });
        }
        reserved.push({ ...base, endsAt: window.endsAt });
      } else {
        this.concurrency(charge.key).holders.add(request.reservationId);
        reserved.push(base);
      }
    }
    this.reservations.set(request.reservationId, { charges: reserved, lease });
  }

  /**
   * Settles at some time in `reading`. Only `reading.to` is used: a delta lands while its slot or period still
   * counts, and if that stops somewhere inside the reading, every later operation (which reads the clock after
   * `to`) sees the slot or period gone either way, so applying it or not cannot be told apart.
   */
  settle(request: SettleRequest, reading: ClockReading): void {
    const reservation = this.reservations.get(request.reservationId);
    if (reservation === undefined) return;
    this.reservations.delete(request.reservationId);
    const at = reading.to;
    reservation.charges.forEach((charge, index) => {
      const counter = this.counters.get(charge.key);
      const delta = (request.amounts[index] ?? charge.amount) - charge.amount;
      if (counter?.kind === "concurrency") {
        counter.holders.delete(request.reservationId);
      } else if (counter?.kind === "fixed") {
        if (at < counter.endsAt && counter.endsAt === charge.endsAt) counter.value = Math.max(0, counter.value + delta);
      } else if (counter?.kind === "sliding") {
        const amount = counter.amounts.get(charge.slot);
        if (amount !== undefined && charge.slot >= firstLiveSlot(at, counter.slotMs, counter.slots)) {
          counter.amounts.set(charge.slot, Math.max(0, amount + delta));
        }
      }
    });
  }

  /** What `extendLease` may answer when run within `reading`: `true`, `false`, or either (a lease ending inside). */
  expectExtendLease(reservationId: string, reading: ClockReading): boolean | "either" {
    const reservation = this.reservations.get(reservationId);
    if (reservation === undefined) return false;
    if (reservation.lease.earliest > reading.to) return true;
    if (reservation.lease.latest <= reading.from) return false;
    return "either";
  }

  applyExtendLease(reservationId: string, leaseMs: number, reading: ClockReading, extended: boolean): void {
    const reservation = this.reservations.get(reservationId);
    if (reservation === undefined) return;
    if (extended) {
      reservation.lease = { earliest: reading.from + leaseMs, latest: reading.to + leaseMs };
    } else {
      // The lease had ended by the time the store read its clock, at `to` at the latest.
      reservation.lease.latest = Math.min(reservation.lease.latest, reading.to);
    }
  }

  block(entry: BlockEntry): void {
    this.blocks.set(entry.key, entry);
  }

  unblock(key: string): void {
    this.blocks.delete(key);
  }

  /**
   * Blocks certainly active throughout `reading`, and those whose end falls inside it (listed or not); with
   * `endInclusive`, also those ending exactly when the reading starts.
   */
  expectBlocked(reading: ClockReading, endInclusive = false): { certain: BlockEntry[]; possible: BlockEntry[] } {
    const certain: BlockEntry[] = [];
    const possible: BlockEntry[] = [];
    for (const entry of this.blocks.values()) {
      if (entry.until === undefined || entry.until > reading.to) certain.push(entry);
      else if (entry.until > reading.from || (endInclusive && entry.until === reading.from)) possible.push(entry);
    }
    return { certain, possible };
  }

  /** Times worth moving the clock to, for the clock-move commands: slot edges, window ends, lease and period ends. */
  landmarks(now: number): number[] {
    const times: number[] = [];
    for (const counter of this.counters.values()) {
      if (counter.kind === "sliding") {
        times.push((Math.floor(now / counter.slotMs) + 1) * counter.slotMs);
        const first = firstLiveSlot(now, counter.slotMs, counter.slots);
        for (const slot of counter.amounts.keys()) {
          if (slot >= first) times.push((slot + counter.slots + 1) * counter.slotMs);
        }
      } else if (counter.kind === "fixed") {
        times.push(counter.endsAt);
      }
    }
    for (const reservation of this.reservations.values()) times.push(reservation.lease.latest);
    for (const entry of this.blocks.values()) if (entry.until !== undefined) times.push(entry.until);
    return times.filter((time) => time > now).sort((left, right) => left - right);
  }

  /**
   * The latest time at or before `now` when a slot the model holds left its window. Stores forget such a slot when
   * they next touch its counter, each at its own moments, so a clock stepping back before that time would make the
   * slot count again in some stores and not in others: the clock-back moves stop there.
   */
  lastSlotEnd(now: number): number | undefined {
    let latest: number | undefined;
    for (const counter of this.counters.values()) {
      if (counter.kind !== "sliding") continue;
      for (const slot of counter.amounts.keys()) {
        const end = (slot + counter.slots + 1) * counter.slotMs;
        if (end <= now && (latest === undefined || end > latest)) latest = end;
      }
    }
    return latest;
  }

  private expectInWorld(request: AdmitRequest, now: number, alive: ReadonlySet<string>): ExpectedAdmit {
    const usedBefore: number[] = [];
    const shadowRefusals: number[] = [];
    for (const [index, charge] of request.charges.entries()) {
      const used = this.usage(charge, now, alive);
      usedBefore.push(used);
      if (used + charge.amount <= charge.capacity) continue;
      if (!charge.enforce) {
        shadowRefusals.push(index);
        continue;
      }
      const retryAfterMs = this.retryAfter(charge, used, now, alive);
      return { admitted: false, refusal: { kind: "limit", chargeIndex: index, used, retryAfterMs } };
    }
    const usedAfter = request.charges.map((charge, index) => usedBefore[index]! + charge.amount);
    return { admitted: true, shadowRefusals, usedAfter };
  }

  private usage(charge: CounterCharge, now: number, alive: ReadonlySet<string>): number {
    const counter = this.counters.get(charge.key);
    if (counter === undefined) return 0;
    if (counter.kind === "fixed") return now < counter.endsAt ? counter.value : 0;
    if (counter.kind === "sliding") return this.liveSlots(counter, now).reduce((sum, [, amount]) => sum + amount, 0);
    return this.liveHolders(counter, now, alive).length;
  }

  private retryAfter(
    charge: CounterCharge,
    used: number,
    now: number,
    alive: ReadonlySet<string>,
  ): RetryRange | undefined {
    if (charge.amount > charge.capacity) return undefined;
    const window = charge.window;
    if (window.kind === "fixed") return exactly(window.endsAt - now);
    const counter = this.counters.get(charge.key);
    if (counter?.kind === "sliding") {
      // Walk the oldest live slots until enough has left the window for the charge to fit.
      let remaining = used;
      for (const [slot, amount] of this.liveSlots(counter, now)) {
        remaining -= amount;
        if (remaining + charge.amount <= charge.capacity) {
          return exactly((slot + counter.slots + 1) * counter.slotMs - now);
        }
      }
      return undefined;
    }
    if (counter?.kind === "concurrency") {
      // The earliest lease end among the live holders; a holder live at `now` ends after `now`.
      const holders = this.liveHolders(counter, now, alive);
      if (holders.length === 0) return undefined;
      const leases = holders.map((id) => this.reservations.get(id)!.lease);
      return {
        min: Math.min(...leases.map((lease) => Math.max(lease.earliest, now + 1))) - now,
        max: Math.min(...leases.map((lease) => lease.latest)) - now,
      };
    }
    return undefined;
  }

  private liveSlots(counter: SlidingCounter, now: number): [number, number][] {
    const first = firstLiveSlot(now, counter.slotMs, counter.slots);
    return [...counter.amounts].filter(([slot]) => slot >= first).sort(([left], [right]) => left - right);
  }

  /** Holders whose lease is live at `now`; a lease ending somewhere around `now` is live when `alive` says so. */
  private liveHolders(counter: ConcurrencyCounter, now: number, alive: ReadonlySet<string>): string[] {
    return [...counter.holders].filter((id) => {
      const lease = this.reservations.get(id)?.lease;
      if (lease === undefined) return false;
      if (lease.earliest > now) return true;
      if (lease.latest <= now) return false;
      return alive.has(id);
    });
  }

  /** Each choice of which uncertain leases (ending around `now`) of the request's concurrency counters are live. */
  private worlds(request: AdmitRequest, now: number): Set<string>[] {
    const uncertain = new Set<string>();
    for (const charge of request.charges) {
      const counter = this.counters.get(charge.key);
      if (counter?.kind !== "concurrency") continue;
      for (const id of counter.holders) {
        const lease = this.reservations.get(id)?.lease;
        if (lease !== undefined && lease.earliest <= now && now < lease.latest) uncertain.add(id);
      }
    }
    const ids = [...uncertain];
    let worlds: Set<string>[] = [new Set()];
    for (const id of ids) worlds = worlds.flatMap((world) => [world, new Set([...world, id])]);
    return worlds;
  }

  /** After an answer, an uncertain lease the answer could only come from being live (or ended) is known to be so. */
  private narrowLeases(request: AdmitRequest, result: AdmitResult): void {
    const now = result.now;
    const matching = this.worlds(request, now).filter((alive) =>
      matchesExpectation(result, this.expectInWorld(request, now, alive)),
    );
    if (matching.length !== 1) return;
    const alive = matching[0]!;
    for (const charge of request.charges) {
      const counter = this.counters.get(charge.key);
      if (counter?.kind !== "concurrency") continue;
      for (const id of counter.holders) {
        const lease = this.reservations.get(id)?.lease;
        if (lease === undefined || !(lease.earliest <= now && now < lease.latest)) continue;
        if (alive.has(id)) lease.earliest = now + 1;
        else lease.latest = now;
      }
    }
  }

  private sliding(key: string, windowMs: number, slots: number): SlidingCounter {
    const slotMs = slotLength(windowMs, slots);
    const counter = this.counters.get(key);
    if (counter === undefined) {
      const created: SlidingCounter = { kind: "sliding", slotMs, slots, amounts: new Map() };
      this.counters.set(key, created);
      return created;
    }
    if (counter.kind !== "sliding" || counter.slotMs !== slotMs || counter.slots !== slots) {
      throw new Error(`the model keeps one window shape per key; ${key} changed shape`);
    }
    return counter;
  }

  private concurrency(key: string): ConcurrencyCounter {
    const counter = this.counters.get(key);
    if (counter === undefined) {
      const created: ConcurrencyCounter = { kind: "concurrency", holders: new Set() };
      this.counters.set(key, created);
      return created;
    }
    if (counter.kind !== "concurrency") throw new Error(`the model keeps one window kind per key; ${key} changed`);
    return counter;
  }
}

function exactly(milliseconds: number): RetryRange {
  return { min: milliseconds, max: milliseconds };
}

/** Whether a store's answer is the expected one (a retry delay within its expected span). */
export function matchesExpectation(actual: AdmitResult, expected: ExpectedAdmit): boolean {
  if (actual.admitted !== expected.admitted) return false;
  if (actual.admitted && expected.admitted) {
    return (
      sameNumbers(actual.shadowRefusals, expected.shadowRefusals) && sameNumbers(actual.usedAfter, expected.usedAfter)
    );
  }
  if (actual.admitted || expected.admitted) return false;
  const got = actual.refusal;
  const want = expected.refusal;
  if (got.kind === "blocked" || want.kind === "blocked") {
    return got.kind === "blocked" && want.kind === "blocked" && sameBlockEntry(got.entry, want.entry);
  }
  if (got.chargeIndex !== want.chargeIndex || got.used !== want.used) return false;
  if (want.retryAfterMs === undefined || got.retryAfterMs === undefined) {
    return want.retryAfterMs === undefined && got.retryAfterMs === undefined;
  }
  return got.retryAfterMs >= want.retryAfterMs.min && got.retryAfterMs <= want.retryAfterMs.max;
}

export function sameBlockEntry(left: BlockEntry, right: BlockEntry): boolean {
  return (
    left.key === right.key &&
    left.reason === right.reason &&
    left.until === right.until &&
    left.createdAt === right.createdAt
  );
}

function sameExpectation(left: ExpectedAdmit, right: ExpectedAdmit): boolean {
  return JSON.stringify(left) === JSON.stringify(right);
}

function sameNumbers(left: readonly number[], right: readonly number[]): boolean {
  return left.length === right.length && left.every((value, index) => value === right[index]);
}
