import { compactTokenUsage } from "./compact-token-usage";
import { asArray, asRecord, jsonLength, parseJson, readCount, textLength } from "./json-fields";
import type { SseEvent } from "./sse-decoder";
import type { TokenUsage } from "./token-usage";
import type { StreamUsageReader, UsageReader, UsageReading } from "./usage-reader";

// The one place Anthropic's usage vocabulary is translated. Field names follow `@anthropic-ai/sdk`'s `Usage`,
// `MessageDeltaUsage` and `CacheCreation` types.

/**
 * Translates a Messages `usage` object (also the merged stream usage).
 *
 * - `input_tokens` EXCLUDES the cache parts, so the input total is `input_tokens + cache_read_input_tokens +
 *   cache_creation_input_tokens`; it is unknown when `input_tokens` is.
 * - Cache writes are split by `cache_creation.ephemeral_1h_input_tokens`; the rest of `cache_creation_input_tokens`
 *   is counted as 5-minute writes (all of it when the breakdown is absent).
 * - `output_tokens` includes thinking; `output_tokens_details.thinking_tokens` (newer API versions) becomes
 *   `reasoningTokens`, which stays unknown when the API does not report it.
 */
export function anthropicUsage(usage: unknown): TokenUsage | undefined {
  const fields = asRecord(usage);
  if (!fields) return undefined;
  const uncachedInput = readCount(fields.input_tokens);
  const cacheRead = readCount(fields.cache_read_input_tokens);
  const breakdown = asRecord(fields.cache_creation);
  const breakdown5m = readCount(breakdown?.ephemeral_5m_input_tokens);
  const breakdown1h = readCount(breakdown?.ephemeral_1h_input_tokens);
  const hasBreakdown = breakdown5m !== undefined || breakdown1h !== undefined;

  const cacheWrite =
    readCount(fields.cache_creation_input_tokens) ??
    (hasBreakdown ? (breakdown5m ?? 0) + (breakdown1h ?? 0) : undefined);
  let cacheWrite1h: number | undefined;
  let cacheWrite5m = cacheWrite;
  if (cacheWrite !== undefined && hasBreakdown) {
    // The breakdown comes from `message_start`; a later total (from `message_delta`) wins, so the parts always add up.
    cacheWrite1h = Math.min(breakdown1h ?? 0, cacheWrite);
    cacheWrite5m = cacheWrite - cacheWrite1h;
  }

  return compactTokenUsage({
    inputTokens: uncachedInput === undefined ? undefined : uncachedInput + (cacheRead ?? 0) + (cacheWrite ?? 0),
    cachedInputTokens: cacheRead,
    cacheWriteInputTokens: cacheWrite5m,
    cacheWrite1hInputTokens: cacheWrite1h,
    outputTokens: readCount(fields.output_tokens),
    reasoningTokens: readCount(asRecord(fields.output_tokens_details)?.thinking_tokens),
  });
}

/** Characters of one content block: text, thinking, or tool input (streamed as JSON text, sent whole as an object). */
function contentBlockCharacters(block: unknown): number {
  const fields = asRecord(block);
  if (!fields) return 0;
  switch (fields.type) {
    case "text":
      return textLength(fields.text);
    case "thinking":
      return textLength(fields.thinking);
    case "tool_use":
    case "server_tool_use":
      return jsonLength(fields.input);
    default:
      return 0;
  }
}

/** Characters of one `content_block_delta` delta. */
function deltaCharacters(delta: unknown): number {
  const fields = asRecord(delta);
  if (!fields) return 0;
  switch (fields.type) {
    case "text_delta":
      return textLength(fields.text);
    case "thinking_delta":
      return textLength(fields.thinking);
    case "input_json_delta":
      return textLength(fields.partial_json);
    default:
      return 0;
  }
}

function readMessagesBody(body: unknown): UsageReading {
  const fields = asRecord(body);
  let outputCharacters = 0;
  for (const block of asArray(fields?.content)) outputCharacters += contentBlockCharacters(block);
  const usage = anthropicUsage(fields?.usage);
  return { usage, final: usage !== undefined, outputCharacters };
}

/**
 * Messages stream (`event: <type>` + `data: {"type": "<type>", …}`). `message_start.message.usage` holds the input
 * and cache counts and an initial `output_tokens`; `message_delta.usage` holds the CUMULATIVE `output_tokens` and
 * may repeat the input and cache counters. Merged like the SDK's `MessageStream`: non-null delta fields overwrite,
 * never add. Tool input streamed as `input_json_delta` is counted there, not again at `content_block_start`
 * (whose `input` is `{}`).
 */
function createMessagesStreamReader(): StreamUsageReader {
  let merged: Record<string, unknown> | undefined;
  let started = false;
  let final = false;
  let outputCharacters = 0;
  return {
    read(event: SseEvent): boolean {
      const payload = asRecord(parseJson(event.data));
      if (!payload) return false;
      const type = typeof payload.type === "string" ? payload.type : event.event;
      switch (type) {
        case "message_start": {
          const message = asRecord(payload.message);
          merged = { ...asRecord(message?.usage) };
          started = true;
          for (const block of asArray(message?.content)) outputCharacters += contentBlockCharacters(block);
          break;
        }
        case "content_block_start": {
          const block = asRecord(payload.content_block);
          if (block?.type === "text" || block?.type === "thinking") outputCharacters += contentBlockCharacters(block);
          break;
        }
        case "content_block_delta":
          outputCharacters += deltaCharacters(payload.delta);
          break;
        case "message_delta": {
          const usage = asRecord(payload.usage);
          if (!usage) break;
          merged ??= {};
          for (const [key, value] of Object.entries(usage)) {
            if (value !== null && value !== undefined) merged[key] = value;
          }
          if (started) final = true;
          break;
        }
        default:
          break;
      }
      return false;
    },
    reading: () => ({ usage: anthropicUsage(merged), final, outputCharacters }),
  };
}

/** Usage of `POST /v1/messages`. */
export const anthropicMessagesUsageReader: UsageReader = {
  readBody: readMessagesBody,
  createStreamReader: createMessagesStreamReader,
};
