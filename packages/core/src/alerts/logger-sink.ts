import { describeAlert } from "./alert";
import type { AlertSinkObject } from "./alert-sink";

export interface AlertLogger {
  warn(message: string, details?: unknown): void;
}

/** Writes each alert as one warning line (plus the alert object) to a logger: `console` by default. */
export function loggerSink(logger: AlertLogger = console): AlertSinkObject {
  return {
    send(alert) {
      logger.warn(describeAlert(alert), alert);
    },
  };
}
