import type { OperationKind } from "../usage/operation";
import { createUsageMeter, type UsageMeterResult } from "../usage/usage-meter";
import type { CallOutcome } from "./gatekeeper";

/** The request header that ties an HTTP request to its guarded call. Stripped before the request leaves. */
export const callIdHeader = "x-tollgate-call-id";

type Fetch = typeof globalThis.fetch;

/**
 * The metering side of one guarded call. The SDK layer opens it, the transport feeds it one reading per successful
 * HTTP response, and it settles exactly once: when the SDK call is over (`finishMethod`) and no successful response
 * body is still being read. Failed attempts (retried 429s, 5xx) carry no usage and are not counted; the successful
 * responses of one call are summed (Gemini's automatic function calling makes several).
 */
export class MeteredCall {
  private readonly readings: UsageMeterResult[] = [];
  private readonly openBodies = new Set<() => void>();
  private aborted = false;
  private methodState: "running" | "done" | "failed" | "aborted" = "running";
  private finished = false;

  constructor(
    readonly operation: OperationKind,
    readonly stream: boolean,
    readonly hideUsageChunk: boolean,
    private readonly onOutcome: (outcome: CallOutcome) => void,
  ) {}

  /** A successful response's body started; `abandon` cancels it and closes it with what was seen. */
  openBody(abandon: () => void): () => void {
    this.openBodies.add(abandon);
    return abandon;
  }

  /** A successful response's body ended (`aborted`: cancelled or cut before its end). */
  closeBody(abandon: () => void, reading: UsageMeterResult, aborted: boolean): void {
    this.openBodies.delete(abandon);
    this.readings.push(reading);
    if (aborted) this.aborted = true;
    this.maybeFinish();
  }

  /** The SDK call resolved (`done`), rejected with a provider/connection error (`failed`), or was aborted. */
  finishMethod(state: "done" | "failed" | "aborted"): void {
    if (this.methodState !== "running") return;
    this.methodState = state;
    if (state === "aborted") {
      this.aborted = true;
      // The caller walked away from a stream whose body nobody will read to the end (Gemini's SDK releases the
      // reader without cancelling it): stop the download and settle with what arrived.
      for (const abandon of [...this.openBodies]) abandon();
    }
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.finished || this.methodState === "running" || this.openBodies.size > 0) return;
    this.finished = true;
    if (this.readings.length === 0) {
      this.onOutcome(
        this.aborted
          ? { kind: "aborted", reading: { usage: undefined, final: false, outputCharacters: 0 } }
          : { kind: "failed" },
      );
      return;
    }
    const reading = sumReadings(this.readings);
    this.onOutcome({ kind: this.aborted ? "aborted" : "completed", reading });
  }
}

function sumReadings(readings: readonly UsageMeterResult[]): UsageMeterResult {
  if (readings.length === 1) return readings[0]!;
  const sum = (pick: (reading: UsageMeterResult) => number | undefined) => {
    let total: number | undefined;
    for (const reading of readings) {
      const value = pick(reading);
      if (value !== undefined) total = (total ?? 0) + value;
    }
    return total;
  };
  const usage = readings.some((reading) => reading.usage !== undefined)
    ? {
        inputTokens: sum((reading) => reading.usage?.inputTokens),
        cachedInputTokens: sum((reading) => reading.usage?.cachedInputTokens),
        cacheWriteInputTokens: sum((reading) => reading.usage?.cacheWriteInputTokens),
        cacheWrite1hInputTokens: sum((reading) => reading.usage?.cacheWrite1hInputTokens),
        outputTokens: sum((reading) => reading.usage?.outputTokens),
        reasoningTokens: sum((reading) => reading.usage?.reasoningTokens),
      }
    : undefined;
  return {
    usage,
    final: readings.every((reading) => reading.final),
    outputCharacters: sum((reading) => reading.outputCharacters) ?? 0,
    inputKnown: readings.every((reading) => reading.inputKnown),
  };
}

/**
 * Passes a successful response through untouched while metering its body. The returned response carries the same
 * status and headers; its body yields the same bytes (minus the OpenAI usage chunk when Tollgate asked for it on
 * the caller's behalf).
 */
export function meterResponse(response: Response, call: MeteredCall): Response {
  if (response.body === null) {
    const none = call.openBody(() => undefined);
    call.closeBody(none, { usage: undefined, final: false, outputCharacters: 0, inputKnown: false }, false);
    return response;
  }
  const meter = createUsageMeter(call.operation, { stream: call.stream, hideUsageChunk: call.hideUsageChunk });
  const reader = response.body.getReader();
  let closed = false;
  const close = (aborted: boolean) => {
    if (closed) return;
    closed = true;
    call.closeBody(handle, aborted ? meter.snapshot() : meter.end(), aborted);
  };
  const handle = call.openBody(() => {
    close(true);
    reader.cancel().catch(() => undefined);
  });
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        // Loop until something can be forwarded: a hidden usage chunk yields no bytes of its own.
        for (;;) {
          const { done, value } = await reader.read();
          if (done) {
            close(false);
            controller.close();
            return;
          }
          const forward = meter.push(value);
          if (forward !== undefined && forward.byteLength > 0) {
            controller.enqueue(forward);
            return;
          }
        }
      } catch (error) {
        close(true);
        controller.error(error);
      }
    },
    cancel(reason) {
      close(true);
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/**
 * The call-id header from whatever header shape an SDK built: `Headers`, Stainless' `{ values: Headers }`, an entry
 * array or a record. With `remove`, the header is taken out so it never leaves the process.
 */
export function callIdFrom(headers: unknown, remove = false): string | undefined {
  if (headers === undefined || headers === null) return undefined;
  const values = headers instanceof Headers ? headers : (headers as { values?: unknown }).values;
  if (values instanceof Headers) {
    const value = values.get(callIdHeader) ?? undefined;
    if (remove) values.delete(callIdHeader);
    return value;
  }
  if (Array.isArray(headers)) {
    const entries = headers as [string, string][];
    const index = entries.findIndex(([name]) => name?.toLowerCase() === callIdHeader);
    if (index === -1) return undefined;
    const value = entries[index]?.[1];
    if (remove) entries.splice(index, 1);
    return value;
  }
  const record = headers as Record<string, unknown>;
  for (const name of Object.keys(record)) {
    if (name.toLowerCase() !== callIdHeader) continue;
    const value = record[name];
    if (remove) delete record[name];
    return typeof value === "string" ? value : undefined;
  }
  return undefined;
}

/** A `fetch` that meters the responses of guarded calls and passes everything else through. */
export function createTapFetch(inner: Fetch, lookup: (callId: string) => MeteredCall | undefined): Fetch {
  return async (input, init) => {
    const callId = callIdFrom(init?.headers, true);
    const response = await inner(input, init);
    const call = callId === undefined ? undefined : lookup(callId);
    if (call === undefined || !response.ok) return response;
    return meterResponse(response, call);
  };
}
