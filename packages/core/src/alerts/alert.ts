import type { LimitMeasure, LimitScope } from "../limits/limit-config";

interface AlertCommon {
  /** When the condition was seen. */
  time: Date;
}

/** A budget crossed one of its `alertAt` fractions. Fires once per limit, subject, period and fraction. */
export interface BudgetThresholdAlert extends AlertCommon {
  type: "budget.threshold";
  limitId: string;
  scope: LimitScope;
  /** The subject's value for the limit's scope (`undefined` for global limits). */
  subject: string | undefined;
  /** The calendar period (`2026-11`) or rolling window the alert is about. */
  period: string;
  measure: LimitMeasure;
  /** In the limit's own unit (USD for `usd`). */
  used: number;
  limit: number;
  fraction: number;
  /** The limit is in shadow mode (`enforce: false`): nothing was refused. */
  shadow: boolean;
}

/** The burn rate of the current period will exhaust the budget before the period ends. Once per period. */
export interface BudgetProjectedAlert extends AlertCommon {
  type: "budget.projected";
  limitId: string;
  scope: LimitScope;
  subject: string | undefined;
  period: string;
  measure: LimitMeasure;
  used: number;
  limit: number;
  /** When the budget runs out at the current rate. */
  exhaustedAt: Date;
  periodEndsAt: Date;
  shadow: boolean;
}

/** The same subject sent the same request too often: the call was refused with `LoopDetectedError`. */
export interface LoopDetectedAlert extends AlertCommon {
  type: "loop.detected";
  subject: Record<string, string>;
  model: string;
  repeats: number;
  windowMs: number;
}

/** Request rate or spend jumped far above the subject's own baseline (or a new subject started like a bot). */
export interface AnomalyAlert extends AlertCommon {
  type: "anomaly.detected";
  scope: LimitScope;
  subject: string | undefined;
  measure: "requests" | "usd";
  /** Over the recent window, in requests or USD. */
  recent: number;
  /** The same window's worth at the baseline rate. */
  expected: number;
  windowMs: number;
  /** The subject was put on the block list. */
  quarantined: boolean;
}

/**
 * A provider's own usage report shows more spend for a model on a day than the guard's ledger holds, beyond the
 * tolerance: the key is probably used outside the guard (leaked, or another app). Raised by reconciliation.
 */
export interface ReconcileMismatchAlert extends AlertCommon {
  type: "reconcile.mismatch";
  provider: "openai" | "anthropic";
  /** The model as reconciliation matched it: the provider's name without a date snapshot suffix. */
  model: string;
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  /** Tokens (input + output) the provider counted that the ledger does not hold. */
  unaccountedTokens: number;
  /** USD the provider billed that the ledger does not hold; `undefined` when its cost report was not read. */
  unaccountedUsd: number | undefined;
}

export type TollgateAlert =
  | BudgetThresholdAlert
  | BudgetProjectedAlert
  | LoopDetectedAlert
  | AnomalyAlert
  | ReconcileMismatchAlert;

/** A one-line, human-readable summary of an alert, for logs and chat messages. */
export function describeAlert(alert: TollgateAlert): string {
  const who = (scope: LimitScope, subject: string | undefined) =>
    subject === undefined ? scope : `${scope} ${subject}`;
  const amount = (measure: LimitMeasure, value: number) =>
    measure === "usd" ? `$${value.toFixed(value < 1 ? 4 : 2)}` : `${Math.round(value)} ${measure}`;
  switch (alert.type) {
    case "budget.threshold":
      if (alert.fraction === 1 && alert.used < alert.limit) {
        return `Tollgate: "${alert.limitId}" is exhausted for ${who(alert.scope, alert.subject)} in ${alert.period}: calls are refused (${amount(alert.measure, alert.used)} of ${amount(alert.measure, alert.limit)} used; the next call did not fit)${alert.shadow ? " [shadow]" : ""}`;
      }
      return `Tollgate: ${Math.round(alert.fraction * 100)}% of "${alert.limitId}" used by ${who(alert.scope, alert.subject)} in ${alert.period} (${amount(alert.measure, alert.used)} of ${amount(alert.measure, alert.limit)})${alert.shadow ? " [shadow]" : ""}`;
    case "budget.projected":
      return `Tollgate: "${alert.limitId}" for ${who(alert.scope, alert.subject)} is projected to run out at ${alert.exhaustedAt.toISOString()}, before ${alert.period} ends (${amount(alert.measure, alert.used)} of ${amount(alert.measure, alert.limit)} used)`;
    case "loop.detected":
      return `Tollgate: loop stopped — ${JSON.stringify(alert.subject)} sent the same ${alert.model} request ${alert.repeats} times within ${alert.windowMs} ms`;
    case "anomaly.detected":
      return `Tollgate: ${alert.measure} anomaly for ${who(alert.scope, alert.subject)}: ${alert.measure === "usd" ? `$${alert.recent.toFixed(4)}` : alert.recent} in ${Math.round(alert.windowMs / 1000)} s against ~${alert.measure === "usd" ? `$${alert.expected.toFixed(4)}` : alert.expected.toFixed(1)} expected${alert.quarantined ? "; subject quarantined" : ""}`;
    case "reconcile.mismatch":
      return `Tollgate: ${alert.provider} reports ${Math.round(alert.unaccountedTokens)} ${alert.model} tokens${alert.unaccountedUsd === undefined ? "" : ` ($${alert.unaccountedUsd.toFixed(alert.unaccountedUsd < 1 ? 4 : 2)})`} on ${alert.day} that did not go through the guard — is the API key used elsewhere?`;
  }
}
