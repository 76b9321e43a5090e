import type { TollgateAlert } from "../alerts/alert";
import type { AlertDispatcher } from "../alerts/alert-sink";
import { budgetAlerts, type PendingAlert, SeenMarkers } from "../alerts/budget-alerts";
import {
  type CompiledAnomaly,
  type compileLoopDetection,
  detectorCharges,
  findAnomalies,
  type WatchedCharge,
} from "../detectors/detectors";
import { LoopDetectedError } from "../errors/loop-detected-error";
import type { SubjectScope } from "../limits/limit-config";
import type { MeasureAmounts } from "../limits/plan-charges";
import { type Subject, subjectKeyPart } from "../limits/subject";
import { alertLogEntry } from "../store/alert-log";
import type { TollgateStore } from "../store/store";

export interface WatchtowerParts {
  store: TollgateStore;
  dispatcher: AlertDispatcher;
  loop: ReturnType<typeof compileLoopDetection>;
  anomaly: CompiledAnomaly | undefined;
  projectedAlerts: boolean;
  clock: () => number;
  /** Reports an alert as a guard event too (`onEvent`), whether or not sinks are configured. */
  report: (alert: TollgateAlert) => void;
  /** A store failure while alerting: reported, never thrown at a caller. */
  onStoreError: (error: unknown) => void;
}

/**
 * Budget alerts, loop detection and anomaly detection: everything that watches calls rather than limiting them.
 * Its counters ride along in the call's one admission (no extra round trip); its once-markers, quarantines and
 * deliveries run after the call's own work and can never fail or slow it.
 */
export class Watchtower {
  private readonly seen = new SeenMarkers();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly parts: WatchtowerParts) {}

  charges(subject: Subject, model: string, params: unknown, amounts: MeasureAmounts): WatchedCharge[] {
    return detectorCharges(this.parts.loop, this.parts.anomaly, subject, model, params, amounts);
  }

  /** The error for a refusal by a detector charge (a loop), raising its alert; `undefined` for ordinary limits. */
  refusal(charge: WatchedCharge, subject: Subject, model: string): LoopDetectedError | undefined {
    const loop = this.parts.loop;
    if (charge.detector?.role !== "loop" || loop === undefined) return undefined;
    const now = this.parts.clock();
    this.raise({
      markerKey: `alert|${charge.charge.key}|${Math.floor(now / loop.windowMs)}`,
      markerTtlMs: loop.windowMs,
      alert: {
        type: "loop.detected",
        subject: { ...(subject as Record<string, string>) },
        model,
        repeats: loop.repeats,
        windowMs: loop.windowMs,
        time: new Date(now),
      },
    });
    return new LoopDetectedError(loop.repeats, loop.windowMs);
  }

  /** A limit refused a call: its budget is exhausted, so every threshold up to 100 % is due. */
  afterRefusal(charge: WatchedCharge, used: number): void {
    if (charge.detector !== undefined) return;
    for (const pending of budgetAlerts(charge, used, this.parts.clock(), false, true)) this.raise(pending);
  }

  /** After an admission: anomaly detection on the counters the admission returned. */
  afterAdmit(charges: readonly WatchedCharge[], usedAfter: readonly number[]): void {
    const anomaly = this.parts.anomaly;
    if (anomaly === undefined) return;
    const now = this.parts.clock();
    for (const finding of findAnomalies(anomaly, charges, usedAfter)) {
      const part =
        finding.scopeValue === undefined ? "global" : subjectKeyPart(finding.scope as SubjectScope, finding.scopeValue);
      const quarantine = anomaly.quarantine && finding.scope !== "global" && finding.scopeValue !== undefined;
      this.raise(
        {
          markerKey: `alert|anomaly|${part}|${finding.measure}|${Math.floor(now / anomaly.windowMs)}`,
          markerTtlMs: anomaly.windowMs,
          alert: {
            type: "anomaly.detected",
            scope: finding.scope,
            subject: finding.scopeValue,
            measure: finding.measure,
            recent: finding.recent,
            expected: finding.expected,
            windowMs: anomaly.windowMs,
            quarantined: quarantine,
            time: new Date(now),
          },
        },
        quarantine
          ? () =>
              this.parts.store.block({
                key: `block|${part}`,
                reason: `anomaly: ${finding.measure} far above baseline`,
                until: undefined,
                createdAt: now,
              })
          : undefined,
      );
    }
  }

  /**
   * After a settlement: budget alerts. `used` per limit is the usage admission saw, corrected by this call's own
   * settlement (true amount minus reserved amount).
   */
  afterSettle(charges: readonly WatchedCharge[], usedAfter: readonly number[], amounts: readonly number[]): void {
    const now = this.parts.clock();
    charges.forEach((plan, index) => {
      if (plan.detector !== undefined) return;
      const used = (usedAfter[index] ?? 0) + (amounts[index] ?? plan.charge.amount) - plan.charge.amount;
      for (const pending of budgetAlerts(plan, used, now, this.parts.projectedAlerts)) this.raise(pending);
    });
  }

  async close(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    await this.parts.dispatcher.close();
  }

  /**
   * Sets the alert's once-marker in the store; only the instance that set it delivers, and records the alert in the
   * store's alert log, so each alert is logged once across instances. A failed record is reported like any store
   * error while alerting: the alert has been delivered already.
   */
  private raise(pending: PendingAlert, action?: () => Promise<void>): void {
    const now = this.parts.clock();
    if (this.seen.has(pending.markerKey, now)) return;
    const work = (async () => {
      const first = await this.parts.store.markOnce(pending.markerKey, pending.markerTtlMs);
      this.seen.add(pending.markerKey, now + pending.markerTtlMs);
      if (!first) return;
      if (action !== undefined) await action();
      this.parts.report(pending.alert);
      this.parts.dispatcher.dispatch(pending.alert);
      await this.parts.store.recordAlert(alertLogEntry(pending.alert)).catch(this.parts.onStoreError);
    })().catch(this.parts.onStoreError);
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }
}
