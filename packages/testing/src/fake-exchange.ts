import type { ServerResponse } from "node:http";
import type { FakeUsage } from "./fake-usage";
import type { FakeFault } from "./faults";
import { faultHeaders } from "./faults";
import type { RecordedRequest } from "./recorded-request";

/**
 * Starts watching a response as soon as its request arrives. A write racing a client abort errors
 * asynchronously; the `close` event is what the fake acts on, so errors are only swallowed here.
 */
export function watchConnection(response: ServerResponse): Promise<void> {
  response.on("error", () => {});
  return new Promise((resolve) => {
    response.once("close", () => resolve());
  });
}

/**
 * One response in flight: writes to the socket, keeps the log record up to date, and tells a closed connection
 * from a finished one. Routes write through it and never touch the `ServerResponse` directly.
 */
export class FakeExchange {
  readonly record: RecordedRequest;
  readonly fault: FakeFault;
  /** Resolves when the connection is done, however it ended. */
  readonly closed: Promise<void>;
  readonly #response: ServerResponse;
  readonly #connectionGone = new AbortController();
  #cutByServer = false;

  /** `connectionClosed` comes from `watchConnection`, attached before the body was read, so no close is missed. */
  constructor(response: ServerResponse, connectionClosed: Promise<void>, record: RecordedRequest, fault: FakeFault) {
    this.#response = response;
    this.record = record;
    this.fault = fault;
    this.closed = connectionClosed.then(() => {
      this.record.completed = response.writableFinished;
      this.record.clientClosedEarly = !response.writableFinished && !this.#cutByServer;
      this.#connectionGone.abort();
    });
  }

  /** Aborts when the connection closes, so delays end early for a client that has gone. */
  get signal(): AbortSignal {
    return this.#connectionGone.signal;
  }

  get isOpen(): boolean {
    return !this.#connectionGone.signal.aborted && !this.#response.destroyed;
  }

  /** Sends a complete JSON response; `usage` is recorded as reported when given. */
  sendJson(status: number, body: unknown, usage?: Required<FakeUsage>, statusMessage?: string): void {
    if (!this.isOpen) {
      return;
    }
    const text = JSON.stringify(body);
    this.#writeHead(
      status,
      { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) },
      statusMessage,
    );
    this.#response.end(text);
    if (usage !== undefined) {
      this.record.usage = usage;
    }
  }

  /** Sends the headers of an event stream right away, so the client sees the response start before any chunk. */
  startEventStream(): void {
    if (!this.isOpen) {
      return;
    }
    this.#writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    this.#response.flushHeaders();
  }

  /** Writes one already formatted SSE chunk and counts it. */
  writeChunk(text: string): void {
    if (!this.isOpen) {
      return;
    }
    this.#response.write(text);
    this.record.chunksSent += 1;
  }

  endEventStream(): void {
    if (this.isOpen) {
      this.#response.end();
    }
  }

  /** Drops the connection mid-response, the way a crashed upstream or a proxy timeout does. */
  cutConnection(): void {
    this.#cutByServer = true;
    this.#response.destroy();
  }

  #writeHead(status: number, headers: Record<string, string>, statusMessage?: string): void {
    const requestId = `req_fake_${this.record.id}`;
    const allHeaders = { ...headers, "x-request-id": requestId, "request-id": requestId, ...faultHeaders(this.fault) };
    if (statusMessage === undefined) {
      this.#response.writeHead(status, allHeaders);
    } else {
      this.#response.writeHead(status, statusMessage, allHeaders);
    }
    this.record.status = status;
  }
}
