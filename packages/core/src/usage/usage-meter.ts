import { anthropicMessagesUsageReader } from "./anthropic-usage";
import { googleEmbedContentUsageReader, googleGenerateContentUsageReader } from "./google-usage";
import { parseJson } from "./json-fields";
import { openAiChatUsageReader, openAiEmbeddingsUsageReader, openAiResponsesUsageReader } from "./openai-usage";
import type { OperationKind } from "./operation";
import { type SseEvent, SseStreamParser } from "./sse-decoder";
import type { TokenUsage } from "./token-usage";
import type { StreamUsageReader, UsageReader, UsageReading } from "./usage-reader";

/** What a meter learnt about one response. */
export interface UsageMeterResult {
  /**
   * The usage as finally reported, or the last running/partial value seen (`undefined` when none was seen). A
   * partial value's `outputTokens` is a lower bound (Anthropic's `message_start` reports an initial output count).
   */
  usage: TokenUsage | undefined;
  /**
   * The provider's terminal usage was seen: the OpenAI chat usage chunk, a Responses `response.completed` /
   * `response.incomplete` / `response.failed` with usage, Anthropic's `message_delta` after `message_start`, a
   * Gemini chunk with usage and a `finishReason`, or a complete JSON body with usage.
   */
  final: boolean;
  /**
   * Characters (UTF-16 code units) of output text, tool-call JSON and reasoning text received so far: the basis
   * for estimating the output tokens of a stream that ended early.
   */
  outputCharacters: number;
  /** `usage.inputTokens` is known. */
  inputKnown: boolean;
}

/** The per-response accumulator a transport tap drives with the body's bytes. */
export interface UsageMeter {
  /**
   * Takes the next piece of the body and returns the bytes to forward to the SDK: the same chunk, unchanged, unless
   * the usage chunk is being hidden (then possibly fewer bytes, or `undefined` for nothing yet). Never throws on
   * malformed content. After `end()`, chunks pass through unread.
   */
  push(chunk: Uint8Array): Uint8Array | undefined;
  /** The body ended (completely, or cut short): parses what was buffered and returns the result. Idempotent. */
  end(): UsageMeterResult;
  /** The result so far, without ending (for a body that was aborted or errored mid-way). */
  snapshot(): UsageMeterResult;
}

export interface UsageMeterOptions {
  /** The body is a `text/event-stream` (the call was made with `stream: true`). */
  stream: boolean;
  /**
   * OpenAI chat streams only: drop the usage-only chunk (`"choices": []` with `usage`) from the bytes forwarded to
   * the SDK, for when Tollgate injected `stream_options.include_usage` and the caller did not ask for it. Ignored
   * for other operations and for JSON bodies. Default `false`.
   */
  hideUsageChunk?: boolean | undefined;
}

const USAGE_READERS: Readonly<Record<OperationKind, UsageReader>> = {
  "openai.chat": openAiChatUsageReader,
  "openai.responses": openAiResponsesUsageReader,
  "openai.embeddings": openAiEmbeddingsUsageReader,
  "anthropic.messages": anthropicMessagesUsageReader,
  "google.generateContent": googleGenerateContentUsageReader,
  "google.embedContent": googleEmbedContentUsageReader,
};

function toResult(reading: UsageReading): UsageMeterResult {
  return {
    usage: reading.usage,
    final: reading.final,
    outputCharacters: reading.outputCharacters,
    inputKnown: reading.usage?.inputTokens !== undefined,
  };
}

const NOTHING_YET: UsageMeterResult = { usage: undefined, final: false, outputCharacters: 0, inputKnown: false };

/**
 * Creates the usage meter of one response.
 *
 * - JSON bodies are decoded as they arrive (TextDecoder stream mode) and parsed once, at `end()`; `snapshot()` before
 *   that knows nothing.
 * - Event streams are parsed incrementally; `snapshot()` and `end()` return the latest running usage. An event whose
 *   JSON is malformed is skipped, so a cut or garbled stream still yields what was seen before.
 * - Bytes are forwarded as they came (the same `Uint8Array`), except when hiding the OpenAI chat usage chunk: then
 *   each SSE block is forwarded once complete (an SDK cannot act on half an event anyway), the usage chunk's block
 *   is left out whole, and every other byte is forwarded unchanged, in order. After that chunk, forwarding is zero
 *   copy again. An unterminated block still held when the body ends is dropped; SSE parsers (the SDK's included)
 *   discard such a block too.
 */
export function createUsageMeter(operation: OperationKind, options: UsageMeterOptions): UsageMeter {
  const reader = USAGE_READERS[operation];
  if (!options.stream) return createJsonUsageMeter(reader);
  const hide = options.hideUsageChunk === true && operation === "openai.chat";
  return createStreamUsageMeter(reader.createStreamReader(), hide);
}

function createJsonUsageMeter(reader: UsageReader): UsageMeter {
  const textDecoder = new TextDecoder("utf-8");
  const parts: string[] = [];
  let result: UsageMeterResult | undefined;
  return {
    push(chunk) {
      if (result === undefined && chunk.length > 0) parts.push(textDecoder.decode(chunk, { stream: true }));
      return chunk;
    },
    end() {
      if (result === undefined) {
        parts.push(textDecoder.decode());
        const text = parts.join("");
        parts.length = 0;
        result = toResult(reader.readBody(parseJson(text)));
      }
      return result;
    },
    snapshot: () => result ?? NOTHING_YET,
  };
}

function concatBytes(pieces: readonly Uint8Array[], length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let written = 0;
  for (const piece of pieces) {
    bytes.set(piece, written);
    written += piece.length;
  }
  return bytes;
}

function createStreamUsageMeter(reader: StreamUsageReader, hide: boolean): UsageMeter {
  let ended = false;
  let result: UsageMeterResult | undefined;

  // Hiding state. Bytes after the last decided block end that came in earlier chunks are copied in `held`.
  let hiding = hide;
  let held: Uint8Array[] = [];
  let heldLength = 0;
  let blockDropped = false;
  let lastBlockDropped = false;
  /** The dropped block ended with a CR at the end of the last chunk: a LF starting the next one is dropped too. */
  let dropCarries = false;
  /** Block ends found by the current `push`, in order: [endOffset, dropped]. */
  const blockEnds: Array<[number, boolean]> = [];

  const onEvent = (event: SseEvent): void => {
    const hideable = reader.read(event);
    if (hiding && hideable) blockDropped = true;
  };
  const onBlockEnd = (endOffset: number, continuation: boolean): void => {
    if (continuation) {
      blockEnds.push([endOffset, lastBlockDropped]);
      return;
    }
    blockEnds.push([endOffset, blockDropped]);
    lastBlockDropped = blockDropped;
    blockDropped = false;
  };
  // Block boundaries only matter when rewriting the byte stream.
  const parser = new SseStreamParser(hide ? { onEvent, onBlockEnd } : { onEvent });

  /** The bytes of `chunk` (which starts at absolute offset `chunkStart`) to forward, given its block ends. */
  function forward(chunk: Uint8Array, chunkStart: number): Uint8Array | undefined {
    const chunkEnd = chunkStart + chunk.length;
    const pieces: Uint8Array[] = [];
    let length = 0;
    let cursor = chunkStart; // absolute offset of the first undecided byte
    let keptFrom = -1; // absolute start of a run of kept bytes of `chunk` not yet sliced, or -1
    const cut = (): void => {
      if (keptFrom !== -1 && cursor > keptFrom) {
        const whole = keptFrom === chunkStart && cursor === chunkEnd;
        pieces.push(whole ? chunk : chunk.subarray(keptFrom - chunkStart, cursor - chunkStart));
        length += cursor - keptFrom;
      }
      keptFrom = -1;
    };

    for (const [endOffset, dropped] of blockEnds) {
      if (heldLength > 0) {
        // The first block to end in this chunk began in an earlier one.
        if (!dropped) {
          pieces.push(...held);
          length += heldLength;
        }
        held = [];
        heldLength = 0;
      }
      if (dropped) {
        cut();
        hiding = false; // there is one usage chunk; everything after it passes through
      } else if (keptFrom === -1) {
        keptFrom = cursor;
      }
      cursor = endOffset;
    }
    blockEnds.length = 0;
    dropCarries = lastBlockDropped && cursor === chunkEnd;

    if (cursor < chunkEnd && hiding) {
      // The rest of the chunk is an unfinished block: hold it until we know whether it is the usage chunk.
      cut();
      held.push(chunk.slice(cursor - chunkStart));
      heldLength += chunkEnd - cursor;
    } else {
      if (keptFrom === -1) keptFrom = cursor;
      cursor = chunkEnd;
      cut();
    }

    if (pieces.length === 0) return undefined;
    if (pieces.length === 1) return pieces[0]; // `chunk` itself when nothing was held or dropped
    return concatBytes(pieces, length);
  }

  return {
    push(chunk) {
      if (ended || chunk.length === 0) return chunk;
      if (!hiding && heldLength === 0 && !dropCarries) {
        parser.push(chunk);
        blockEnds.length = 0;
        return chunk;
      }
      const chunkStart = parser.byteOffset;
      parser.push(chunk);
      return forward(chunk, chunkStart);
    },
    end() {
      if (!ended) {
        ended = true;
        parser.end();
        held = [];
        heldLength = 0;
        result = toResult(reader.reading());
      }
      return result ?? NOTHING_YET;
    },
    snapshot: () => result ?? toResult(reader.reading()),
  };
}
