import type { AdmitRequest, AdmitResult, BlockEntry, CounterCharge } from "@tollgate/core";
import type * as fc from "fast-check";
import {
  type ClockReading,
  type ExpectedAdmit,
  matchesExpectation,
  ReferenceStore,
  sameBlockEntry,
} from "./reference-store";
import type { SystemUnderTest } from "./system-under-test";
import type { BlockName, KeyName, TimeScale } from "./time-scale";

/**
 * The steps of a run, as plain data so that a shrunk counterexample prints as code that replays it: `toString()` of
 * each command is the call that builds it (`admit({...})`), and regression tests list such calls.
 */

export interface ChargeSpec {
  key: KeyName;
  amount: number;
  /** `null`: no limit (`Infinity`). */
  capacity: number | null;
  /** Default `true`; `false` is a shadow limit. */
  enforce?: boolean;
  /** Fixed windows only: charge the period before the current one, which is over. */
  endedPeriod?: boolean;
}

export interface AdmitSpec {
  charges: ChargeSpec[];
  leaseMs: number;
  blockKeys?: BlockName[];
  dryRun?: boolean;
  /** For kept counterexamples: the answer spelled out, checked besides the model's. */
  expect?: AdmitOutcome;
}

export type AdmitOutcome =
  | { usedAfter: number[] }
  | { refusedBy: number; used: number; retryAfterMs?: number }
  | { blockedBy: BlockName };

/**
 * Which reservation a settle or extension targets: counted back from the newest admitted one (0 = newest), wrapping;
 * or an id never admitted, or the id the dry runs use.
 */
export type ReservationPick = number | "unknown" | "dry-run";

export interface SettleSpec {
  reservation: ReservationPick;
  /** The true amounts (fewer than the charges: the rest keep their reserved amount), or zero for every charge. */
  amounts: number[] | "abort";
}

export interface ExtendLeaseSpec {
  reservation: ReservationPick;
  leaseMs: number;
}

export interface BlockSpec {
  key: BlockName;
  /** How long from now; negative: already over; `null`: until unblocked. */
  forMs: number | null;
  reason?: string;
}

/**
 * `by`: forward; `toLandmark`: to just before, at or after the n-th next time something changes; `back`: the clock
 * steps back (an NTP correction), but not past the last time a slot left its window (see `lastSlotEnd`).
 */
export type ClockSpec = { by: number } | { toLandmark: number; offsetMs: number } | { back: number };

/** The model's side of a run: the reference store and the reservations admitted so far. */
export class ModelRun {
  readonly reference = new ReferenceStore();
  /** Admitted reservations (dry runs excluded), oldest first; settled ones stay, so that settling twice happens. */
  readonly reservations: { id: string; charges: number }[] = [];
  private nextId = 0;

  newReservationId(namespace: string): string {
    return `${namespace}call-${this.nextId++}`;
  }

  pick(namespace: string, pick: ReservationPick): { id: string; charges: number } {
    const count = this.reservations.length;
    if (pick === "dry-run") return { id: dryRunId(namespace), charges: 1 };
    if (pick === "unknown" || count === 0) return { id: `${namespace}never-admitted`, charges: 1 };
    return this.reservations[count - 1 - (pick % count)]!;
  }
}

export type StoreCommand = fc.AsyncCommand<ModelRun, SystemUnderTest>;

/** A difference between a store and the model: the step, what the store did, what the model allows. */
export class ModelMismatchError extends Error {
  override readonly name = "ModelMismatchError";
}

abstract class Step implements StoreCommand {
  check(): boolean {
    return true;
  }
  abstract run(model: ModelRun, system: SystemUnderTest): Promise<void>;
  abstract toString(): string;
}

class AdmitStep extends Step {
  constructor(readonly spec: AdmitSpec) {
    super();
  }

  async run(model: ModelRun, system: SystemUnderTest): Promise<void> {
    const { store, clock, namespace } = system;
    const dryRun = this.spec.dryRun === true;
    const request: AdmitRequest = {
      // Dry runs share one id, as the guard's `check()` does; it must never become a reservation.
      reservationId: dryRun ? dryRunId(namespace) : model.newReservationId(namespace),
      charges: this.spec.charges.map((charge) => resolveCharge(charge, system.scale, namespace, clock.read())),
      blockKeys: (this.spec.blockKeys ?? []).map((name) => blockKey(namespace, name)),
      leaseMs: this.spec.leaseMs,
      ...(dryRun ? { dryRun: true } : {}),
    };
    const from = clock.read();
    const result = await store.admit(request);
    const to = clock.read();
    if (result.now < from || result.now > to) {
      throw new ModelMismatchError(
        `${this}: the store's clock read ${result.now}, outside the local time around the call [${from}, ${to}]`,
      );
    }
    const expectations = model.reference.expectAdmit(request, result.now);
    if (!expectations.some((expected) => matchesExpectation(result, expected))) {
      throw new ModelMismatchError(admitMismatch(this, request, result, expectations));
    }
    const outcome = this.spec.expect;
    if (outcome !== undefined && !hasOutcome(result, outcome, namespace)) {
      throw new ModelMismatchError(`${this}: the store answered ${JSON.stringify(result)}`);
    }
    model.reference.applyAdmit(request, result);
    if (result.admitted && !dryRun) {
      model.reservations.push({ id: request.reservationId, charges: request.charges.length });
    }
  }

  toString(): string {
    return `admit(${JSON.stringify(this.spec)})`;
  }
}

class SettleStep extends Step {
  constructor(readonly spec: SettleSpec) {
    super();
  }

  async run(model: ModelRun, system: SystemUnderTest): Promise<void> {
    const target = model.pick(system.namespace, this.spec.reservation);
    const amounts =
      this.spec.amounts === "abort" ? Array.from({ length: target.charges }, () => 0) : [...this.spec.amounts];
    const request = { reservationId: target.id, amounts };
    const from = system.clock.read();
    await system.store.settle(request);
    model.reference.settle(request, { from, to: system.clock.read() });
  }

  toString(): string {
    return `settle(${JSON.stringify(this.spec)})`;
  }
}

class ExtendLeaseStep extends Step {
  constructor(readonly spec: ExtendLeaseSpec) {
    super();
  }

  async run(model: ModelRun, system: SystemUnderTest): Promise<void> {
    const { id } = model.pick(system.namespace, this.spec.reservation);
    const from = system.clock.read();
    const extended = await system.store.extendLease(id, this.spec.leaseMs);
    const reading: ClockReading = { from, to: system.clock.read() };
    const expected = model.reference.expectExtendLease(id, reading);
    if (expected !== "either" && expected !== extended) {
      throw new ModelMismatchError(
        `${this}: extendLease(${id}) answered ${extended}, the model expects ${expected} (clock in [${reading.from}, ${reading.to}])`,
      );
    }
    model.reference.applyExtendLease(id, this.spec.leaseMs, reading, extended);
  }

  toString(): string {
    return `extendLease(${JSON.stringify(this.spec)})`;
  }
}

class BlockStep extends Step {
  constructor(readonly spec: BlockSpec) {
    super();
  }

  async run(model: ModelRun, system: SystemUnderTest): Promise<void> {
    const now = system.clock.read();
    const entry: BlockEntry = {
      key: blockKey(system.namespace, this.spec.key),
      reason: this.spec.reason,
      until: this.spec.forMs === null ? undefined : now + this.spec.forMs,
      createdAt: now,
    };
    await system.store.block(entry);
    model.reference.block(entry);
  }

  toString(): string {
    return `block(${JSON.stringify(this.spec)})`;
  }
}

class UnblockStep extends Step {
  constructor(readonly key: BlockName) {
    super();
  }

  async run(model: ModelRun, system: SystemUnderTest): Promise<void> {
    const key = blockKey(system.namespace, this.key);
    await system.store.unblock(key);
    model.reference.unblock(key);
  }

  toString(): string {
    return `unblock(${JSON.stringify(this.key)})`;
  }
}

class ListBlockedStep extends Step {
  async run(model: ModelRun, system: SystemUnderTest): Promise<void> {
    const from = system.clock.read();
    const listed = (await system.store.listBlocked()).filter((entry) => entry.key.startsWith(system.namespace));
    const reading = { from, to: system.clock.read() };
    const { certain, possible } = model.reference.expectBlocked(reading, system.listsBlockAtItsEnd === true);
    const missing = certain.filter((entry) => !listed.some((seen) => sameBlockEntry(seen, entry)));
    const unexpected = listed.filter((seen) => ![...certain, ...possible].some((entry) => sameBlockEntry(seen, entry)));
    if (missing.length > 0 || unexpected.length > 0 || new Set(listed.map((entry) => entry.key)).size < listed.length) {
      throw new ModelMismatchError(
        `${this}: listed ${JSON.stringify(listed)}; the model expects ${JSON.stringify(certain)}` +
          ` and maybe ${JSON.stringify(possible)} (clock in [${reading.from}, ${reading.to}])`,
      );
    }
  }

  toString(): string {
    return "listBlocked()";
  }
}

class ClockStep extends Step {
  constructor(readonly spec: ClockSpec) {
    super();
  }

  async run(model: ModelRun, system: SystemUnderTest): Promise<void> {
    const { clock, scale } = system;
    if ("by" in this.spec) {
      await clock.advance(this.spec.by);
      return;
    }
    if ("back" in this.spec) {
      const now = clock.read();
      const target = Math.max(now - this.spec.back, model.reference.lastSlotEnd(now) ?? Number.NEGATIVE_INFINITY);
      await clock.advance(Math.min(0, target - now));
      return;
    }
    // To just before, at or after a time where something changes: a slot edge, a window, lease, period or block end.
    const now = clock.read();
    const landmarks = model.reference.landmarks(now);
    if (landmarks.length === 0) return;
    const target = landmarks[this.spec.toLandmark % landmarks.length]! + this.spec.offsetMs;
    await clock.advance(Math.min(target - now, scale.landmarkMoveMs));
  }

  toString(): string {
    return `clock(${JSON.stringify(this.spec)})`;
  }
}

class SweepStep extends Step {
  async run(_model: ModelRun, system: SystemUnderTest): Promise<void> {
    await system.sweep?.();
  }

  toString(): string {
    return "sweep()";
  }
}

export const admit = (spec: AdmitSpec): StoreCommand => new AdmitStep(spec);
export const settle = (spec: SettleSpec): StoreCommand => new SettleStep(spec);
export const extendLease = (spec: ExtendLeaseSpec): StoreCommand => new ExtendLeaseStep(spec);
export const block = (spec: BlockSpec): StoreCommand => new BlockStep(spec);
export const unblock = (key: BlockName): StoreCommand => new UnblockStep(key);
export const listBlocked = (): StoreCommand => new ListBlockedStep();
export const clock = (spec: ClockSpec): StoreCommand => new ClockStep(spec);
export const sweep = (): StoreCommand => new SweepStep();

/** The charge a spec stands for: fixed windows name their period in the key, as the core does. */
function resolveCharge(spec: ChargeSpec, scale: TimeScale, namespace: string, now: number): CounterCharge {
  const shape = scale.keys[spec.key];
  const key = `${namespace}${spec.key}`;
  const base = {
    amount: spec.amount,
    capacity: spec.capacity ?? Number.POSITIVE_INFINITY,
    enforce: spec.enforce ?? true,
  };
  if (shape.kind === "sliding") {
    return { ...base, key, window: { kind: "sliding", windowMs: shape.windowMs, slots: shape.slots } };
  }
  if (shape.kind === "fixed") {
    const period = Math.floor(now / shape.periodMs) - (spec.endedPeriod === true ? 1 : 0);
    return { ...base, key: `${key}|p${period}`, window: { kind: "fixed", endsAt: (period + 1) * shape.periodMs } };
  }
  // The core charges one call in flight per concurrency limit.
  return { ...base, key, amount: 1, window: { kind: "concurrency" } };
}

function dryRunId(namespace: string): string {
  return `${namespace}check`;
}

function blockKey(namespace: string, name: BlockName): string {
  return `${namespace}block|${name}`;
}

function hasOutcome(result: AdmitResult, outcome: AdmitOutcome, namespace: string): boolean {
  if ("usedAfter" in outcome) {
    return result.admitted && JSON.stringify(result.usedAfter) === JSON.stringify(outcome.usedAfter);
  }
  if (result.admitted) return false;
  const refusal = result.refusal;
  if ("blockedBy" in outcome) {
    return refusal.kind === "blocked" && refusal.entry.key === blockKey(namespace, outcome.blockedBy);
  }
  return (
    refusal.kind === "limit" &&
    refusal.chargeIndex === outcome.refusedBy &&
    refusal.used === outcome.used &&
    (outcome.retryAfterMs === undefined || refusal.retryAfterMs === outcome.retryAfterMs)
  );
}

function admitMismatch(
  step: Step,
  request: AdmitRequest,
  result: AdmitResult,
  expectations: readonly ExpectedAdmit[],
): string {
  return [
    `${step}: the store and the model disagree at now = ${result.now}`,
    `  request: ${JSON.stringify(request)}`,
    `  store:   ${JSON.stringify(result)}`,
    ...expectations.map((expected) => `  model:   ${JSON.stringify(expected)}`),
  ].join("\n");
}
