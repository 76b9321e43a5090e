import type { SseEvent } from "./sse-decoder";
import type { TokenUsage } from "./token-usage";

/** What has been learnt about one response so far. */
export interface UsageReading {
  /** The usage as finally reported, or the last running/partial value seen; `undefined` when none was seen. */
  usage: TokenUsage | undefined;
  /** The provider's terminal usage was seen: `usage` is the final, billed figure. */
  final: boolean;
  /** Characters (UTF-16 code units) of output text, tool-call JSON and reasoning text seen so far. */
  outputCharacters: number;
}

/** Reads the events of one streamed response, in order. Never throws on malformed or unexpected events. */
export interface StreamUsageReader {
  /**
   * Takes one event into account. Returns `true` when the event carries nothing but usage and may be hidden from
   * the SDK (the OpenAI chat `choices: []` usage chunk); `false` otherwise.
   */
  read(event: SseEvent): boolean;
  /** The state after the events read so far. */
  reading(): UsageReading;
}

/** Reads usage out of one operation's responses: a complete JSON body, or a stream of SSE events. */
export interface UsageReader {
  /** Reads a complete, parsed JSON body (`undefined` when the body was not valid JSON). */
  readBody(body: unknown): UsageReading;
  /** Starts reading one streamed response. */
  createStreamReader(): StreamUsageReader;
}
