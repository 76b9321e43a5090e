import { createHmac } from "node:crypto";
import { ConfigurationError } from "../errors/configuration-error";
import { describeAlert, type TollgateAlert } from "./alert";
import type { AlertSinkObject } from "./alert-sink";

export interface WebhookSinkOptions {
  url: string;
  /** `json` posts the alert itself; `slack` and `discord` post a message those services display. Default `json`. */
  format?: "json" | "slack" | "discord";
  /**
   * Signs each body: `x-tollgate-signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">` with the timestamp in
   * `x-tollgate-timestamp` (epoch seconds), so a receiver can reject forged and replayed alerts.
   */
  secret?: string;
  /** Attempts per alert, the first included. Default 8 (about 2 minutes of backoff). */
  maxAttempts?: number;
  /** First retry delay; doubled each attempt, with jitter, capped at 30 s. Default 500 ms. */
  initialBackoffMs?: number;
  /** Alerts waiting at most; beyond it the oldest are dropped (and counted). Default 1000. */
  maxQueue?: number;
  /** Timeout of one delivery attempt. Default 10 s. */
  timeoutMs?: number;
  /** How long `close()` waits for the queue to drain. Default 10 s. */
  drainTimeoutMs?: number;
  /** Injectable for tests; default global `fetch`. */
  fetch?: typeof globalThis.fetch;
}

export interface WebhookSink extends AlertSinkObject {
  /** Alerts dropped because the queue was full or attempts ran out. */
  readonly dropped: number;
  /** Alerts waiting or being delivered. */
  readonly pending: number;
}

/** Signature of a webhook body as `webhookSink` sends it; receivers compare it in constant time. */
export function signWebhookBody(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

function formatBody(alert: TollgateAlert, format: "json" | "slack" | "discord"): string {
  if (format === "slack") return JSON.stringify({ text: describeAlert(alert) });
  if (format === "discord") return JSON.stringify({ content: describeAlert(alert) });
  return JSON.stringify(alert);
}

/**
 * Posts alerts to a webhook from a bounded in-memory queue, one at a time, retrying failures with exponential
 * backoff. Nothing here runs on a model call's path: `send` only enqueues.
 */
export function webhookSink(options: WebhookSinkOptions): WebhookSink {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new ConfigurationError("webhookSink.url", "must be an absolute http(s) URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ConfigurationError("webhookSink.url", "must be an http(s) URL");
  }
  const format = options.format ?? "json";
  if (!["json", "slack", "discord"].includes(format)) {
    throw new ConfigurationError("webhookSink.format", 'must be "json", "slack" or "discord"');
  }
  const maxAttempts = options.maxAttempts ?? 8;
  const initialBackoffMs = options.initialBackoffMs ?? 500;
  const maxQueue = options.maxQueue ?? 1000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
  const send = options.fetch ?? globalThis.fetch;
  const queue: TollgateAlert[] = [];
  let dropped = 0;
  let worker: Promise<void> | undefined;
  let closing = false;
  let wake: (() => void) | undefined;

  const sleep = (milliseconds: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, milliseconds);
      timer.unref?.();
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  async function deliver(alert: TollgateAlert): Promise<boolean> {
    const body = formatBody(alert, format);
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "tollgate-webhook" };
      if (options.secret !== undefined) {
        const timestamp = String(Math.floor(Date.now() / 1000));
        headers["x-tollgate-timestamp"] = timestamp;
        headers["x-tollgate-signature"] = signWebhookBody(options.secret, timestamp, body);
      }
      try {
        const response = await send(url, { method: "POST", headers, body, signal: AbortSignal.timeout(timeoutMs) });
        await response.body?.cancel().catch(() => undefined);
        if (response.ok) return true;
        // A 4xx other than 408/429 will not get better by retrying.
        if (response.status < 500 && response.status !== 408 && response.status !== 429) return false;
      } catch {
        // Connection refused, reset or timed out: retry.
      }
      if (attempt === maxAttempts || closing) break;
      const backoff = Math.min(30_000, initialBackoffMs * 2 ** (attempt - 1));
      await sleep(backoff / 2 + Math.random() * (backoff / 2));
    }
    return false;
  }

  async function work(): Promise<void> {
    for (let alert = queue.shift(); alert !== undefined; alert = queue.shift()) {
      if (!(await deliver(alert))) dropped++;
    }
    worker = undefined;
  }

  return {
    get dropped() {
      return dropped;
    },
    get pending() {
      return queue.length + (worker === undefined ? 0 : 1);
    },
    send(alert) {
      if (queue.length >= maxQueue) {
        queue.shift();
        dropped++;
      }
      queue.push(alert);
      worker ??= work();
    },
    async close() {
      if (worker === undefined) return;
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, drainTimeoutMs).unref?.());
      await Promise.race([worker, deadline]);
      // Past the deadline, stop waiting between retries: the remaining attempts run once more, then give up.
      closing = true;
      wake?.();
    },
  };
}
