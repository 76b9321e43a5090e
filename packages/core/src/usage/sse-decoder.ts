/** One dispatched server-sent event. */
export interface SseEvent {
  /** The `event:` field, or `undefined` when the block had none (the WHATWG default type "message"). */
  event: string | undefined;
  /** The `data:` lines of the block, joined with `\n`. */
  data: string;
}

/** An incremental SSE decoder: feed it the body's bytes in whatever pieces they arrive. */
export interface SseDecoder {
  /** Decodes one more piece of the body and returns the events it completed. */
  push(chunk: Uint8Array): SseEvent[];
  /**
   * Ends the body. Per the WHATWG spec an event not terminated by a blank line is discarded, so this returns the
   * events still pending, which is always none; it exists to release the buffers and to keep the shape symmetric.
   */
  end(): SseEvent[];
}

/** Receives what `SseStreamParser` finds, synchronously, in stream order. */
export interface SseStreamListener {
  /** A blank line dispatched an event. Called just before the `onBlockEnd` of the same blank line. */
  onEvent(event: SseEvent): void;
  /**
   * A blank line ended a block (whether or not it dispatched an event); `endOffset` is the absolute byte offset just
   * past its line terminator. When that terminator is a CR that ends a chunk, the block end is reported at once
   * (after the CR) and, if the next chunk starts with the LF of a CRLF, reported again with `continuation: true`
   * and `endOffset` one byte further: that LF belongs to the same block.
   */
  onBlockEnd?(endOffset: number, continuation: boolean): void;
}

const LINE_FEED = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const SPACE = 0x20;
const BYTE_ORDER_MARK = "\uFEFF";

/**
 * The event-stream parser of the WHATWG HTML spec (§9.2.6), incremental and linear in the body size.
 *
 * Lines are split at the byte level: CR and LF never occur inside a multi-byte UTF-8 sequence, so a complete line's
 * bytes always decode on their own, and a character split across chunks simply waits, with the rest of its line, in
 * the pending-line buffer. Each byte is scanned once (the search for the next CR/LF never restarts from the start
 * of a growing buffer) and each line is decoded once, which also lets the parser report exact byte offsets of block
 * boundaries for callers that rewrite the byte stream.
 *
 * Handles `\n`, `\r\n` and `\r` line endings (a CRLF split across chunks included), a leading BOM, comments,
 * `data:` with or without the space, multi-line data, and fields without a colon. `id:` and `retry:` are ignored.
 * Malformed UTF-8 decodes to U+FFFD, as the spec asks.
 */
export class SseStreamParser {
  readonly #listener: SseStreamListener;
  readonly #textDecoder = new TextDecoder("utf-8", { ignoreBOM: true });
  /** Bytes of the current, unterminated line (copies: callers may reuse their chunk buffers). */
  #lineParts: Uint8Array[] = [];
  #lineLength = 0;
  /** The last byte seen was a CR ending a line; an LF at the start of the next chunk completes that CRLF. */
  #afterCarriageReturn = false;
  /** ...and that line was blank, so the LF also belongs to the block that blank line ended. */
  #carriageReturnEndedBlock = false;
  #atStreamStart = true;
  #eventType = "";
  #dataLines: string[] = [];
  #offset = 0;

  constructor(listener: SseStreamListener) {
    this.#listener = listener;
  }

  /** Bytes consumed so far. */
  get byteOffset(): number {
    return this.#offset;
  }

  push(chunk: Uint8Array): void {
    const length = chunk.length;
    if (length === 0) return;
    const base = this.#offset;
    this.#offset += length;
    let position = 0;

    if (this.#afterCarriageReturn) {
      if (chunk[0] === LINE_FEED) {
        position = 1;
        if (this.#carriageReturnEndedBlock) this.#listener.onBlockEnd?.(base + 1, true);
      }
      this.#afterCarriageReturn = false;
      this.#carriageReturnEndedBlock = false;
    }

    // Next LF / CR at or after `position`; -2 = not searched yet, -1 = none left in this chunk.
    let lineFeed = -2;
    let carriageReturn = -2;
    while (position < length) {
      if (lineFeed !== -1 && lineFeed < position) lineFeed = chunk.indexOf(LINE_FEED, position);
      if (carriageReturn !== -1 && carriageReturn < position) carriageReturn = chunk.indexOf(CARRIAGE_RETURN, position);
      let lineEnd: number;
      if (lineFeed === -1) {
        if (carriageReturn === -1) break;
        lineEnd = carriageReturn;
      } else {
        lineEnd = carriageReturn === -1 || lineFeed < carriageReturn ? lineFeed : carriageReturn;
      }

      let next = lineEnd + 1;
      let carriageReturnAtChunkEnd = false;
      if (chunk[lineEnd] === CARRIAGE_RETURN) {
        if (next < length) {
          if (chunk[next] === LINE_FEED) next += 1;
        } else {
          carriageReturnAtChunkEnd = true;
        }
      }

      const blank = this.#takeLine(chunk, position, lineEnd);
      position = next;
      if (carriageReturnAtChunkEnd) {
        this.#afterCarriageReturn = true;
        this.#carriageReturnEndedBlock = blank;
      }
      if (blank) this.#listener.onBlockEnd?.(base + next, false);
    }

    if (position < length) {
      this.#lineParts.push(chunk.slice(position));
      this.#lineLength += length - position;
    }
  }

  /** Ends the body: the unterminated line and the undispatched event are discarded, as the spec says. */
  end(): void {
    this.#lineParts = [];
    this.#lineLength = 0;
    this.#afterCarriageReturn = false;
    this.#carriageReturnEndedBlock = false;
    this.#eventType = "";
    this.#dataLines = [];
  }

  /** Processes the line `chunk[start, end)` (after any pending bytes); returns whether it was blank. */
  #takeLine(chunk: Uint8Array, start: number, end: number): boolean {
    let bytes: Uint8Array;
    if (this.#lineLength === 0) {
      bytes = chunk.subarray(start, end);
    } else {
      bytes = new Uint8Array(this.#lineLength + end - start);
      let written = 0;
      for (const part of this.#lineParts) {
        bytes.set(part, written);
        written += part.length;
      }
      bytes.set(chunk.subarray(start, end), written);
      this.#lineParts = [];
      this.#lineLength = 0;
    }

    let line = bytes.length === 0 ? "" : this.#textDecoder.decode(bytes);
    if (this.#atStreamStart) {
      this.#atStreamStart = false;
      if (line.startsWith(BYTE_ORDER_MARK)) line = line.slice(1);
    }

    if (line.length === 0) {
      this.#dispatch();
      return true;
    }

    const colon = line.indexOf(":");
    if (colon === 0) return false; // comment
    if (colon === -1) {
      if (line === "data") this.#dataLines.push("");
      else if (line === "event") this.#eventType = "";
      return false;
    }
    if (colon === 4 && line.startsWith("data")) {
      this.#dataLines.push(line.slice(line.charCodeAt(5) === SPACE ? 6 : 5));
    } else if (colon === 5 && line.startsWith("event")) {
      this.#eventType = line.slice(line.charCodeAt(6) === SPACE ? 7 : 6);
    }
    return false;
  }

  #dispatch(): void {
    const dataLines = this.#dataLines;
    const eventType = this.#eventType;
    this.#eventType = "";
    if (dataLines.length === 0) return;
    this.#dataLines = [];
    this.#listener.onEvent({
      event: eventType === "" ? undefined : eventType,
      data: dataLines.length === 1 ? dataLines[0]! : dataLines.join("\n"),
    });
  }
}

/** Creates an incremental SSE decoder (WHATWG event-stream parsing). */
export function createSseDecoder(): SseDecoder {
  let events: SseEvent[] = [];
  const parser = new SseStreamParser({ onEvent: (event) => events.push(event) });
  return {
    push(chunk) {
      parser.push(chunk);
      const completed = events;
      events = [];
      return completed;
    },
    end() {
      parser.end();
      const completed = events;
      events = [];
      return completed;
    },
  };
}
