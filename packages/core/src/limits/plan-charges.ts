import { SubjectScopeMissingError } from "../errors/subject-scope-missing-error";
import type { CounterCharge } from "../store/store";
import type { PeriodWindowCache } from "./calendar-period";
import { type CompiledLimit, slotsPerWindow } from "./compile-limits";
import type { LimitMeasure } from "./limit-config";
import { type Subject, subjectKeyPart } from "./subject";

/** What one call asks of each measure, in store units (nano-USD for `usd`). */
export type MeasureAmounts = Record<Exclude<LimitMeasure, "concurrent">, number>;

export interface PlannedCharge {
  limit: CompiledLimit;
  charge: CounterCharge;
  /** The subject value the charge counts for (`undefined` for global limits), for events and alerts. */
  scopeValue: string | undefined;
  /** Bounds and id of the calendar period, if the limit has one. */
  periodStartsAt: number | undefined;
  periodEndsAt: number | undefined;
  periodId: string | undefined;
}

/** The limits that apply to a call on `model`; throws when the subject lacks a scope one of them needs. */
export function applicableLimits(limits: readonly CompiledLimit[], subject: Subject, model: string): CompiledLimit[] {
  const applicable: CompiledLimit[] = [];
  for (const limit of limits) {
    if (!limit.appliesTo(model)) continue;
    if (limit.scope !== "global" && subject[limit.scope] === undefined) {
      throw new SubjectScopeMissingError(
        `Limit "${limit.id}" counts per ${limit.scope}, but the subject has no ${limit.scope}: pass it to guard.for({ ${limit.scope}: … })`,
      );
    }
    applicable.push(limit);
  }
  return applicable;
}

/** The store key of a limit for a subject, without the period part. */
export function limitKey(limit: CompiledLimit, subject: Subject): string {
  if (limit.scope === "global") return `${limit.id}|global`;
  return `${limit.id}|${subjectKeyPart(limit.scope, subject[limit.scope]!)}`;
}

/** Builds the store charges of one call. `now` places calendar periods; rolling windows use the store's clock. */
export function planCharges(
  limits: readonly CompiledLimit[],
  subject: Subject,
  amounts: MeasureAmounts,
  now: number,
  periods: PeriodWindowCache,
): PlannedCharge[] {
  return limits.map((limit) => {
    const key = limitKey(limit, subject);
    const scopeValue = limit.scope === "global" ? undefined : subject[limit.scope];
    const window = limit.window;
    const base = { capacity: limit.capacity, enforce: limit.enforce };
    if (window.kind === "concurrency") {
      return {
        limit,
        scopeValue,
        periodStartsAt: undefined,
        periodEndsAt: undefined,
        periodId: undefined,
        charge: { ...base, key, amount: 1, window: { kind: "concurrency" } },
      };
    }
    const amount = amounts[limit.measure as keyof MeasureAmounts];
    if (window.kind === "sliding") {
      return {
        limit,
        scopeValue,
        periodStartsAt: undefined,
        periodEndsAt: undefined,
        periodId: undefined,
        charge: { ...base, key, amount, window: { kind: "sliding", windowMs: window.windowMs, slots: slotsPerWindow } },
      };
    }
    const period = periods.get(window.period, window.timeZone, now);
    return {
      limit,
      scopeValue,
      periodStartsAt: period.startsAt,
      periodEndsAt: period.endsAt,
      periodId: period.id,
      charge: { ...base, key: `${key}|${period.id}`, amount, window: { kind: "fixed", endsAt: period.endsAt } },
    };
  });
}

/** Block-list keys of a subject: one per scope it carries, plus the global switch. */
export function blockKeys(subject: Subject): string[] {
  const keys = ["block|global"];
  for (const scope of ["user", "ip", "key", "tenant", "session"] as const) {
    const value = subject[scope];
    if (value !== undefined) keys.push(`block|${subjectKeyPart(scope, value)}`);
  }
  return keys;
}
