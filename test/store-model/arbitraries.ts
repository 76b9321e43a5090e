import * as fc from "fast-check";
import {
  type AdmitSpec,
  admit,
  block,
  type ChargeSpec,
  type ClockSpec,
  clock,
  extendLease,
  listBlocked,
  type ReservationPick,
  type SettleSpec,
  type StoreCommand,
  settle,
  sweep,
  unblock,
} from "./commands";
import { blockNames, type KeyName, keyNames, type TimeScale } from "./time-scale";

export interface CommandOptions {
  /** Add explicit sweeps (Postgres), which must change no answer. */
  sweeps: boolean;
  /** Only these counters; default all of them. */
  keys?: readonly KeyName[];
  /**
   * Let the clock also step back (an injected clock only). Only sliding windows have one meaning then: a fixed
   * period, a lease or a block that ended and is revived by a step back is forgotten by some stores and not others,
   * so runs with steps back use sliding keys and no blocks.
   */
  clockBack?: boolean;
}

/**
 * Random steps of a run. Amounts and capacities are small so that refusals, exact fits and overages all happen
 * often; a few charges never fit (amount above capacity) or have no limit at all.
 */
export function storeCommands(scale: TimeScale, options: CommandOptions, maxCommands: number) {
  const keys = options.keys ?? keyNames;
  const clockBack = options.clockBack === true;
  const weighted: fc.WeightedArbitrary<StoreCommand>[] = [
    { weight: 8, arbitrary: admitSpec(scale, keys, !clockBack).map(admit) },
    // An observation: a dry run of a zero charge on every counter, so the next step compares all of them.
    {
      weight: 2,
      arbitrary: fc
        .constant(null)
        .map(() =>
          admit({ charges: keys.map((key) => ({ key, amount: 0, capacity: null })), leaseMs: 1, dryRun: true }),
        ),
    },
    { weight: 4, arbitrary: settleSpec().map(settle) },
    {
      weight: 2,
      arbitrary: fc
        .record({ reservation: reservationPick(), leaseMs: fc.constantFrom(...scale.leaseMs) })
        .map(extendLease),
    },
    { weight: 4, arbitrary: clockSpec(scale, clockBack).map(clock) },
  ];
  if (options.sweeps) weighted.push({ weight: 1, arbitrary: fc.constant(null).map(sweep) });
  if (!clockBack) weighted.push(...blockCommands(scale));
  return fc.commands([fc.oneof(...weighted)], { maxCommands, size: "max" });
}

function clockSpec(scale: TimeScale, back: boolean): fc.Arbitrary<ClockSpec> {
  const moves: fc.WeightedArbitrary<ClockSpec>[] = [
    { weight: 4, arbitrary: fc.integer({ min: 0, max: scale.moveMs }).map((by) => ({ by })) },
    { weight: 1, arbitrary: fc.constantFrom(...scale.longMovesMs).map((by) => ({ by })) },
    { weight: 4, arbitrary: fc.record({ toLandmark: fc.nat(8), offsetMs: fc.constantFrom(-1, 0, 1, 2) }) },
  ];
  if (back) moves.push({ weight: 3, arbitrary: fc.integer({ min: 1, max: scale.moveMs }).map((ms) => ({ back: ms })) });
  return fc.oneof(...moves);
}

function blockCommands(scale: TimeScale): fc.WeightedArbitrary<StoreCommand>[] {
  return [
    {
      weight: 1,
      arbitrary: fc
        .record(
          {
            key: fc.constantFrom(...blockNames),
            forMs: fc.constantFrom(...scale.blockForMs).map((forMs) => forMs ?? null),
            reason: fc.constantFrom("abuse", "loop"),
          },
          { requiredKeys: ["key", "forMs"] },
        )
        .map(block),
    },
    { weight: 1, arbitrary: fc.constantFrom(...blockNames).map(unblock) },
    { weight: 1, arbitrary: fc.constant(null).map(listBlocked) },
  ];
}

function admitSpec(scale: TimeScale, keys: readonly KeyName[], blocks: boolean): fc.Arbitrary<AdmitSpec> {
  return fc.record(
    {
      charges: fc
        .uniqueArray(fc.constantFrom(...keys), { minLength: 1, maxLength: 4 })
        .chain((chosen) => fc.tuple(...chosen.map((key) => chargeSpec(scale, key)))),
      leaseMs: fc.constantFrom(...scale.leaseMs),
      blockKeys: blocks ? fc.shuffledSubarray([...blockNames]) : fc.constant([]),
      dryRun: fc.boolean(),
    },
    { requiredKeys: ["charges", "leaseMs"] },
  );
}

function chargeSpec(scale: TimeScale, key: KeyName): fc.Arbitrary<ChargeSpec> {
  const kind = scale.keys[key].kind;
  return fc.record(
    {
      key: fc.constant(key),
      amount:
        kind === "concurrency"
          ? fc.constant(1)
          : fc.oneof({ weight: 24, arbitrary: fc.nat(5) }, fc.integer({ min: 6, max: 20 })),
      capacity: fc.oneof(
        {
          weight: 20,
          arbitrary: kind === "concurrency" ? fc.integer({ min: 1, max: 3 }) : fc.integer({ min: 5, max: 14 }),
        },
        fc.constant(0),
        fc.constant(null),
      ),
      enforce: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, fc.constant(false)),
      endedPeriod: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, fc.constant(true)),
    },
    { requiredKeys: ["key", "amount", "capacity"] },
  );
}

/** True amounts: zero, below, equal to or above what was reserved, for some or all charges; or an abort. */
function settleSpec(): fc.Arbitrary<SettleSpec> {
  return fc.record({
    reservation: reservationPick(),
    amounts: fc.oneof(
      { weight: 4, arbitrary: fc.array(fc.oneof(fc.constant(0), fc.nat(20)), { maxLength: 5 }) },
      { weight: 1, arbitrary: fc.constant("abort" as const) },
    ),
  });
}

function reservationPick(): fc.Arbitrary<ReservationPick> {
  return fc.oneof({ weight: 16, arbitrary: fc.nat(5) }, fc.constantFrom("unknown" as const, "dry-run" as const));
}
