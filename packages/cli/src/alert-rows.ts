import { type AlertLogEntry, alertFromLogEntry, describeAlert, type TollgateAlert } from "@tollgate/core";

/** One alert of a store's log, as `tollgate report` and `tollgate alerts` show it. Plain text: escape it for HTML. */
export interface AlertRow {
  /** Epoch ms the alert fired. */
  time: number;
  type: string;
  /** What it is about: the limit's id, or the model. */
  about: string;
  /** Who: the scope and subject value, or the provider. */
  who: string;
  /** How far: the budget fraction crossed, the measure and amounts, the repeats. */
  level: string;
  /** The one-line description the alert sinks received, without the `Tollgate: ` prefix. */
  description: string;
  /** A budget threshold was crossed (the report marks these on the spend chart). */
  budgetThreshold: boolean;
}

const knownTypes = new Set<string>([
  "budget.threshold",
  "budget.projected",
  "loop.detected",
  "anomaly.detected",
  "reconcile.mismatch",
]);

export function alertRow(entry: AlertLogEntry): AlertRow {
  const base = { time: entry.time, type: String(entry.alert.type) };
  // A log written by a newer version may hold a type this one does not know: show it rather than fail.
  if (!knownTypes.has(base.type)) {
    return { ...base, about: "", who: "", level: "", description: JSON.stringify(entry.alert), budgetThreshold: false };
  }
  const alert = alertFromLogEntry(entry);
  return {
    ...base,
    ...columns(alert),
    description: describeAlert(alert).replace(/^Tollgate: /, ""),
    budgetThreshold: alert.type === "budget.threshold",
  };
}

function columns(alert: TollgateAlert): Pick<AlertRow, "about" | "who" | "level"> {
  switch (alert.type) {
    case "budget.threshold":
      return {
        about: alert.limitId,
        who: who(alert.scope, alert.subject),
        level: `${Math.round(alert.fraction * 100)}% of ${amount(alert.measure, alert.limit)}${alert.shadow ? " (shadow)" : ""}`,
      };
    case "budget.projected":
      return {
        about: alert.limitId,
        who: who(alert.scope, alert.subject),
        level: `runs out ${alert.exhaustedAt.toISOString().slice(0, 16).replace("T", " ")} UTC`,
      };
    case "loop.detected":
      return {
        about: alert.model,
        who: Object.entries(alert.subject)
          .map(([scope, value]) => `${scope} ${value}`)
          .join(", "),
        level: `${alert.repeats} repeats in ${Math.round(alert.windowMs / 1000)} s`,
      };
    case "anomaly.detected":
      return {
        about: `${alert.measure} rate`,
        who: who(alert.scope, alert.subject),
        level: `${alert.measure === "usd" ? `$${alert.recent.toFixed(4)}` : alert.recent} vs ~${alert.measure === "usd" ? `$${alert.expected.toFixed(4)}` : alert.expected.toFixed(1)}${alert.quarantined ? ", quarantined" : ""}`,
      };
    case "reconcile.mismatch":
      return {
        about: alert.model,
        who: alert.provider,
        level: `${Math.round(alert.unaccountedTokens)} tokens${alert.unaccountedUsd === undefined ? "" : ` ($${alert.unaccountedUsd.toFixed(4)})`} unaccounted on ${alert.day}`,
      };
  }
}

function who(scope: string, subject: string | undefined): string {
  return subject === undefined ? scope : `${scope} ${subject}`;
}

function amount(measure: string, value: number): string {
  return measure === "usd" ? `$${value.toFixed(value < 1 ? 4 : 2)}` : `${Math.round(value)} ${measure}`;
}

/** `YYYY-MM-DD HH:MM:SS` in UTC. */
export function formatAlertTime(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 19).replace("T", " ");
}
