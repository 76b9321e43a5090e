import type { FakeExchange } from "./fake-exchange";
import type { FakeUsage } from "./fake-usage";
import { delay } from "./faults";

/** One server-sent event. Objects are sent as one line of JSON, strings (such as `[DONE]`) as they are. */
export interface SseEvent {
  event?: string;
  data: unknown;
}

export interface SseWriterOptions {
  /** Gemini ends events with `\r\n\r\n`; OpenAI and Anthropic with `\n\n`. */
  lineEnding: "\n" | "\r\n";
  /**
   * Event name for the malformed line. Anthropic's SDK skips data lines without an `event:` line, so a
   * malformed line must be named there to be noticed at all.
   */
  malformedEventName?: string;
}

/** Time between the last chunk and the cut, so the client has read what was sent before the socket drops. */
const cutGraceMs = 20;

/** The not-JSON payload of `malformedStream`. */
export const malformedData = '{"malformed": this is not JSON';

/**
 * Writes an event stream through an exchange and applies the stream faults: `chunkDelayMs` before every chunk
 * but the first, one malformed line after the first chunk, and the cut after `cutAfterChunks` chunks.
 */
export class SseWriter {
  readonly #exchange: FakeExchange;
  readonly #options: SseWriterOptions;
  #malformedSent = false;

  constructor(exchange: FakeExchange, options: SseWriterOptions) {
    this.#exchange = exchange;
    this.#options = options;
  }

  /** Starts the stream; false if the connection is already gone or cut. */
  async start(): Promise<boolean> {
    this.#exchange.startEventStream();
    return this.#continueOrCut();
  }

  /**
   * Sends one event. `reportedUsage` marks the event that carries the final usage, so the log records usage
   * only once it has really been written. Returns false once the stream is over (client gone or cut), so
   * routes stop writing.
   */
  async send(event: SseEvent, reportedUsage?: Required<FakeUsage>): Promise<boolean> {
    const exchange = this.#exchange;
    if (exchange.record.chunksSent > 0) {
      await delay(exchange.fault.chunkDelayMs, exchange.signal);
    }
    if (!exchange.isOpen) {
      return false;
    }
    exchange.writeChunk(
      this.#format(event.event, typeof event.data === "string" ? event.data : JSON.stringify(event.data)),
    );
    if (reportedUsage !== undefined) {
      exchange.record.usage = reportedUsage;
    }
    if (!(await this.#continueOrCut())) {
      return false;
    }
    if (exchange.fault.malformedStream === true && !this.#malformedSent) {
      this.#malformedSent = true;
      exchange.writeChunk(this.#format(this.#options.malformedEventName, malformedData));
      return this.#continueOrCut();
    }
    return true;
  }

  end(): void {
    this.#exchange.endEventStream();
  }

  #format(eventName: string | undefined, data: string): string {
    const ending = this.#options.lineEnding;
    const eventLine = eventName === undefined ? "" : `event: ${eventName}${ending}`;
    return `${eventLine}data: ${data}${ending}${ending}`;
  }

  /**
   * Cuts the connection once the configured number of chunks is out; false when the stream is over. The cut
   * comes where the next chunk would have (after `chunkDelayMs`, at least `cutGraceMs`): dropped at once, the
   * client's fetch errors its body stream in the same tick and discards the chunks it had not handed on yet.
   */
  async #continueOrCut(): Promise<boolean> {
    const exchange = this.#exchange;
    const limit = exchange.fault.cutAfterChunks;
    if (limit !== undefined && exchange.isOpen && exchange.record.chunksSent >= limit) {
      await delay(Math.max(exchange.fault.chunkDelayMs ?? 0, cutGraceMs), exchange.signal);
      if (exchange.isOpen) {
        exchange.cutConnection();
      }
      return false;
    }
    return exchange.isOpen;
  }
}
