import { compactTokenUsage } from "./compact-token-usage";
import { asArray, asRecord, parseJson, readCount, textLength } from "./json-fields";
import type { SseEvent } from "./sse-decoder";
import type { TokenUsage } from "./token-usage";
import type { StreamUsageReader, UsageReader, UsageReading } from "./usage-reader";

// The one place OpenAI's usage vocabulary is translated. Field names follow the `openai` SDK's types
// (`CompletionUsage`, `ResponseUsage`, `CreateEmbeddingResponse.Usage`).

/**
 * Translates a Chat Completions `usage` object. `prompt_tokens` already includes
 * `prompt_tokens_details.cached_tokens` (and `cache_write_tokens`); `completion_tokens` already includes
 * `completion_tokens_details.reasoning_tokens`. Returns `undefined` for anything that is not a usage object.
 */
export function openAiChatUsage(usage: unknown): TokenUsage | undefined {
  const fields = asRecord(usage);
  if (!fields) return undefined;
  const promptDetails = asRecord(fields.prompt_tokens_details);
  const completionDetails = asRecord(fields.completion_tokens_details);
  return compactTokenUsage({
    inputTokens: readCount(fields.prompt_tokens),
    cachedInputTokens: readCount(promptDetails?.cached_tokens),
    cacheWriteInputTokens: readCount(promptDetails?.cache_write_tokens),
    outputTokens: readCount(fields.completion_tokens),
    reasoningTokens: readCount(completionDetails?.reasoning_tokens),
  });
}

/**
 * Translates a Responses API `usage` object (`input_tokens` includes `input_tokens_details.cached_tokens` and
 * `cache_write_tokens`; `output_tokens` includes `output_tokens_details.reasoning_tokens`).
 */
export function openAiResponsesUsage(usage: unknown): TokenUsage | undefined {
  const fields = asRecord(usage);
  if (!fields) return undefined;
  const inputDetails = asRecord(fields.input_tokens_details);
  const outputDetails = asRecord(fields.output_tokens_details);
  return compactTokenUsage({
    inputTokens: readCount(fields.input_tokens),
    cachedInputTokens: readCount(inputDetails?.cached_tokens),
    cacheWriteInputTokens: readCount(inputDetails?.cache_write_tokens),
    outputTokens: readCount(fields.output_tokens),
    reasoningTokens: readCount(outputDetails?.reasoning_tokens),
  });
}

/** Translates an Embeddings `usage` object: `prompt_tokens` in, nothing out. */
export function openAiEmbeddingsUsage(usage: unknown): TokenUsage | undefined {
  const fields = asRecord(usage);
  if (!fields) return undefined;
  const inputTokens = readCount(fields.prompt_tokens);
  return inputTokens === undefined ? undefined : { inputTokens, outputTokens: 0 };
}

/** Characters of a chat `message` or streamed `delta`: content, refusal and tool-call arguments. */
function chatMessageCharacters(message: unknown): number {
  const fields = asRecord(message);
  if (!fields) return 0;
  let characters = textLength(fields.content) + textLength(fields.refusal);
  for (const toolCall of asArray(fields.tool_calls)) {
    characters += textLength(asRecord(asRecord(toolCall)?.function)?.arguments);
  }
  characters += textLength(asRecord(fields.function_call)?.arguments);
  return characters;
}

function readChatBody(body: unknown): UsageReading {
  const fields = asRecord(body);
  let outputCharacters = 0;
  for (const choice of asArray(fields?.choices)) outputCharacters += chatMessageCharacters(asRecord(choice)?.message);
  const usage = openAiChatUsage(fields?.usage);
  return { usage, final: usage !== undefined, outputCharacters };
}

/**
 * Chat Completions stream. With `stream_options.include_usage` every chunk carries `"usage": null` and a last chunk
 * with `"choices": []` carries the usage; `[DONE]` ends the stream. A non-null usage on a chunk with choices (some
 * OpenAI-compatible servers do this) is kept as the running value and becomes final at `[DONE]`.
 */
function createChatStreamReader(): StreamUsageReader {
  let usage: TokenUsage | undefined;
  let final = false;
  let outputCharacters = 0;
  return {
    read(event: SseEvent): boolean {
      if (event.data.startsWith("[DONE]")) {
        if (usage !== undefined) final = true;
        return false;
      }
      const chunk = asRecord(parseJson(event.data));
      if (!chunk) return false;
      const choices = chunk.choices;
      for (const choice of asArray(choices)) outputCharacters += chatMessageCharacters(asRecord(choice)?.delta);
      const reported = openAiChatUsage(chunk.usage);
      if (reported === undefined) return false;
      usage = reported;
      if (Array.isArray(choices) && choices.length === 0) {
        final = true;
        return true;
      }
      return false;
    },
    reading: () => ({ usage, final, outputCharacters }),
  };
}

/** Streamed Responses events whose `delta` is generated text (output, refusal, reasoning, tool input). */
const RESPONSES_TEXT_DELTA_EVENTS: ReadonlySet<string> = new Set([
  "response.output_text.delta",
  "response.refusal.delta",
  "response.function_call_arguments.delta",
  "response.custom_tool_call_input.delta",
  "response.mcp_call_arguments.delta",
  "response.code_interpreter_call_code.delta",
  "response.reasoning_text.delta",
  "response.reasoning_summary_text.delta",
  "response.audio.transcript.delta",
]);

/** The streamed Responses events that end a response and carry its final `response.usage`. */
const RESPONSES_TERMINAL_EVENTS: ReadonlySet<string> = new Set([
  "response.completed",
  "response.incomplete",
  "response.failed",
]);

/** Characters of one Responses `output` item. */
function responsesItemCharacters(item: unknown): number {
  const fields = asRecord(item);
  if (!fields) return 0;
  switch (fields.type) {
    case "message": {
      let characters = 0;
      for (const part of asArray(fields.content)) {
        const partFields = asRecord(part);
        characters += textLength(partFields?.text) + textLength(partFields?.refusal);
      }
      return characters;
    }
    case "reasoning": {
      let characters = 0;
      for (const part of [...asArray(fields.summary), ...asArray(fields.content)]) {
        characters += textLength(asRecord(part)?.text);
      }
      return characters;
    }
    case "function_call":
    case "mcp_call":
      return textLength(fields.arguments);
    case "custom_tool_call":
      return textLength(fields.input);
    case "code_interpreter_call":
      return textLength(fields.code);
    default:
      return 0;
  }
}

function readResponsesBody(body: unknown): UsageReading {
  const fields = asRecord(body);
  let outputCharacters = 0;
  for (const item of asArray(fields?.output)) outputCharacters += responsesItemCharacters(item);
  const usage = openAiResponsesUsage(fields?.usage);
  return { usage, final: usage !== undefined, outputCharacters };
}

/**
 * Responses stream: `event: <type>` + `data: {"type": "<type>", …}`. Usage arrives only in the terminal
 * `response.completed` / `response.incomplete` / `response.failed` event, as `response.usage`.
 */
function createResponsesStreamReader(): StreamUsageReader {
  let usage: TokenUsage | undefined;
  let final = false;
  let outputCharacters = 0;
  return {
    read(event: SseEvent): boolean {
      const payload = asRecord(parseJson(event.data));
      if (!payload) return false;
      const type = typeof payload.type === "string" ? payload.type : event.event;
      if (type === undefined) return false;
      if (RESPONSES_TEXT_DELTA_EVENTS.has(type)) {
        outputCharacters += textLength(payload.delta);
        return false;
      }
      const reported = openAiResponsesUsage(asRecord(payload.response)?.usage);
      if (reported !== undefined) {
        usage = reported;
        if (RESPONSES_TERMINAL_EVENTS.has(type)) final = true;
      }
      return false;
    },
    reading: () => ({ usage, final, outputCharacters }),
  };
}

function readEmbeddingsBody(body: unknown): UsageReading {
  const usage = openAiEmbeddingsUsage(asRecord(body)?.usage);
  return { usage, final: usage !== undefined, outputCharacters: 0 };
}

/** Embeddings never stream; a stream reader that finds nothing keeps the meter total. */
function createEmbeddingsStreamReader(): StreamUsageReader {
  return {
    read: () => false,
    reading: () => ({ usage: undefined, final: false, outputCharacters: 0 }),
  };
}

/** Usage of `POST /chat/completions`. */
export const openAiChatUsageReader: UsageReader = {
  readBody: readChatBody,
  createStreamReader: createChatStreamReader,
};

/** Usage of `POST /responses`. */
export const openAiResponsesUsageReader: UsageReader = {
  readBody: readResponsesBody,
  createStreamReader: createResponsesStreamReader,
};

/** Usage of `POST /embeddings`. */
export const openAiEmbeddingsUsageReader: UsageReader = {
  readBody: readEmbeddingsBody,
  createStreamReader: createEmbeddingsStreamReader,
};
