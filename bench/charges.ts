// The admissions the store benchmarks send, built the way the guard builds them (keys `limit|scope:value[|period]`,
// block keys of every scope), for 1 or 5 limits. Capacities are huge: nothing is ever refused, so every admission
// does the full work of checking and reserving.
import type { AdmitRequest, CounterCharge, CounterWindow, SettleRequest } from "@tollgate/core";

export type LimitCount = 1 | 5;

const hugeCapacity = 1_000_000_000_000;

export interface SubjectKeys {
  user: string;
  ip: string;
}

export function subjectKeys(index: number): SubjectKeys {
  return { user: `u${index}`, ip: `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}` };
}

export interface ChargePlan {
  /** Rolling windows of the sliding limits. */
  windowMs: number;
  /** End of the calendar period of the daily limits (epoch ms), and its id in the keys. */
  periodEndsAt: number;
  periodId: string;
}

/** Sliding windows of one minute (requests and tokens per minute, 20 slots) and daily periods ending tomorrow. */
export function perMinutePlan(): ChargePlan {
  const dayMs = 86_400_000;
  const today = Math.floor(Date.now() / dayMs);
  return {
    windowMs: 60_000,
    // One day of margin, so a run crossing midnight keeps the same counters.
    periodEndsAt: (today + 2) * dayMs,
    periodId: new Date(today * dayMs).toISOString().slice(0, 10),
  };
}

/**
 * 1 limit: requests per minute per user. 5 limits: requests and tokens per minute per user, requests per minute per
 * IP, tokens and USD per day per user — the shapes a deployment has. No concurrency limit: rate-limiter-flexible,
 * the peer, has none, and the comparison must be of the same limits.
 */
export function charges(plan: ChargePlan, keys: SubjectKeys, count: LimitCount): CounterCharge[] {
  const sliding: CounterWindow = { kind: "sliding", windowMs: plan.windowMs, slots: 20 };
  const daily: CounterWindow = { kind: "fixed", endsAt: plan.periodEndsAt };
  const userRequests: CounterCharge = {
    key: `user-rpm|user:${keys.user}`,
    amount: 1,
    capacity: hugeCapacity,
    window: sliding,
    enforce: true,
  };
  if (count === 1) return [userRequests];
  return [
    userRequests,
    { key: `user-tpm|user:${keys.user}`, amount: 1_000, capacity: hugeCapacity, window: sliding, enforce: true },
    { key: `ip-rpm|ip:${keys.ip}`, amount: 1, capacity: hugeCapacity, window: sliding, enforce: true },
    {
      key: `user-daily-tokens|user:${keys.user}|${plan.periodId}`,
      amount: 1_000,
      capacity: hugeCapacity,
      window: daily,
      enforce: true,
    },
    {
      key: `user-daily-usd|user:${keys.user}|${plan.periodId}`,
      amount: 5_000_000,
      capacity: hugeCapacity,
      window: daily,
      enforce: true,
    },
  ];
}

/** The true usage settled after the call: fewer tokens and less cost than reserved, so settlement refunds. */
export function settledAmounts(count: LimitCount): number[] {
  return count === 1 ? [1] : [1, 600, 1, 600, 3_000_000];
}

export function admitRequest(
  plan: ChargePlan,
  keys: SubjectKeys,
  count: LimitCount,
  reservationId: string,
): AdmitRequest {
  return {
    reservationId,
    charges: charges(plan, keys, count),
    blockKeys: ["block|global", `block|user:${keys.user}`, `block|ip:${keys.ip}`],
    leaseMs: 60_000,
  };
}

/**
 * Admission requests for `subjects` subjects, built once per subject (charges and block keys), so a benchmark times
 * the store and not the building of its input; each call only gets its own reservation id.
 */
export function admissions(
  plan: ChargePlan,
  count: LimitCount,
  subjects: number,
): (subject: number, reservationId: string) => AdmitRequest {
  const prepared = Array.from({ length: subjects }, (_, index) => admitRequest(plan, subjectKeys(index), count, ""));
  return (subject, reservationId) => ({ ...prepared[subject % subjects]!, reservationId });
}

export function settleRequest(count: LimitCount, reservationId: string): SettleRequest {
  return { reservationId, amounts: settledAmounts(count) };
}
