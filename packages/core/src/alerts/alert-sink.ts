import type { TollgateAlert } from "./alert";

/**
 * Receives alerts. A plain function is a sink; an object sink may also be drained on `guard.close()`. A sink's
 * failure or slowness never reaches a model call: alerts are dispatched after the call's own work.
 */
export type AlertSink = ((alert: TollgateAlert) => void | Promise<void>) | AlertSinkObject;

export interface AlertSinkObject {
  send(alert: TollgateAlert): void | Promise<void>;
  /** Waits (bounded) until queued alerts are delivered or given up. */
  close?(): Promise<void>;
}

/** Fans alerts out to sinks, off the caller's path, and drains them on close. */
export class AlertDispatcher {
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly sinks: readonly AlertSink[],
    private readonly onSinkError: (error: unknown) => void,
  ) {}

  get enabled(): boolean {
    return this.sinks.length > 0;
  }

  dispatch(alert: TollgateAlert): void {
    for (const sink of this.sinks) {
      const delivery = Promise.resolve()
        .then(() => (typeof sink === "function" ? sink(alert) : sink.send(alert)))
        .catch(this.onSinkError);
      this.inFlight.add(delivery);
      void delivery.finally(() => this.inFlight.delete(delivery));
    }
  }

  async close(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    await Promise.allSettled(this.sinks.map((sink) => (typeof sink === "function" ? undefined : sink.close?.())));
  }
}
