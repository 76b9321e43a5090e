import { type CompiledLimit, toDisplayUnits } from "../limits/compile-limits";
import type { PlannedCharge } from "../limits/plan-charges";
import type { TollgateAlert } from "./alert";

/** Budget alerts: a limit's `alertAt` (default 50/80/100 % for USD and token limits). */
export function alertFractions(limit: CompiledLimit): readonly number[] {
  if (limit.alertAt.length > 0) return limit.alertAt;
  return limit.measure === "usd" ||
    limit.measure === "tokens" ||
    limit.measure === "inputTokens" ||
    limit.measure === "outputTokens"
    ? [0.5, 0.8, 1]
    : [];
}

/** A budget condition and the once-marker that makes it fire once across every instance sharing the store. */
export interface PendingAlert {
  markerKey: string;
  markerTtlMs: number;
  alert: TollgateAlert;
}

const dayMs = 86_400_000;
/** Projections need some history: a tenth of the budget used and a twentieth of the period elapsed. */
const projectionMinimumUsed = 0.1;
const projectionMinimumElapsed = 0.05;

/**
 * The alerts a charge's new usage calls for; `exhausted` when the limit just refused a call. `used` is in store units; each candidate carries a marker key (one per
 * limit, subject value, period and fraction) that the caller sets with `markOnce` before dispatching.
 */
export function budgetAlerts(
  plan: PlannedCharge,
  used: number,
  now: number,
  projected: boolean,
  exhausted = false,
): PendingAlert[] {
  const limit = plan.limit;
  if (limit.window.kind === "concurrency" || limit.capacity <= 0) return [];
  const fractions = alertFractions(limit);
  if (fractions.length === 0) return [];
  // A rolling window has no period of its own: alerts repeat at most once per window length.
  const windowMs = limit.window.kind === "sliding" ? limit.window.windowMs : 0;
  const period = plan.periodId ?? `${new Date(Math.floor(now / windowMs) * windowMs).toISOString()}/${windowMs}ms`;
  // A marker lives as long as its period, plus a day of slack for clock skew.
  const markerTtlMs = (plan.periodEndsAt === undefined ? windowMs : plan.periodEndsAt - now) + dayMs;
  const base = {
    limitId: limit.id,
    scope: limit.scope,
    subject: plan.scopeValue,
    period,
    measure: limit.measure,
    used: toDisplayUnits(limit, used),
    limit: limit.displayCapacity,
    shadow: !limit.enforce,
    time: new Date(now),
  };
  const markerBase = `alert|${plan.charge.key}|${period}`;
  const alerts: PendingAlert[] = [];
  for (const fraction of fractions) {
    // A refusal means the budget is spent for practical purposes, even when reservations kept it just under 100 %:
    // that is the 100 % alert. Lower thresholds it skipped over are not claimed.
    if (used < fraction * limit.capacity && !(exhausted && fraction === 1)) continue;
    alerts.push({
      markerKey: `${markerBase}|${fraction}`,
      markerTtlMs,
      alert: { type: "budget.threshold", ...base, fraction },
    });
  }
  if (
    projected &&
    !exhausted &&
    plan.periodStartsAt !== undefined &&
    plan.periodEndsAt !== undefined &&
    used < limit.capacity
  ) {
    const elapsed = now - plan.periodStartsAt;
    const length = plan.periodEndsAt - plan.periodStartsAt;
    if (used >= projectionMinimumUsed * limit.capacity && elapsed >= projectionMinimumElapsed * length) {
      const exhaustedAt = plan.periodStartsAt + (limit.capacity / used) * elapsed;
      if (exhaustedAt < plan.periodEndsAt) {
        alerts.push({
          markerKey: `${markerBase}|projected`,
          markerTtlMs,
          alert: {
            type: "budget.projected",
            ...base,
            exhaustedAt: new Date(exhaustedAt),
            periodEndsAt: new Date(plan.periodEndsAt),
          },
        });
      }
    }
  }
  return alerts;
}

/**
 * Remembers markers this process already saw set, so a budget past 80 % does not cost a store round trip per call.
 * The store's marker stays the authority; this only skips asking again. Bounded, oldest forgotten first.
 */
export class SeenMarkers {
  private readonly seen = new Map<string, number>();

  constructor(private readonly capacity = 10_000) {}

  has(key: string, now: number): boolean {
    const expiresAt = this.seen.get(key);
    if (expiresAt === undefined) return false;
    if (expiresAt > now) return true;
    this.seen.delete(key);
    return false;
  }

  add(key: string, expiresAt: number): void {
    this.seen.set(key, expiresAt);
    if (this.seen.size > this.capacity) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }
}
