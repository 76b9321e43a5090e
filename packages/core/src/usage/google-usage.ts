import { compactTokenUsage } from "./compact-token-usage";
import { asArray, asRecord, isRecord, jsonLength, parseJson, readCount, textLength } from "./json-fields";
import type { SseEvent } from "./sse-decoder";
import type { TokenUsage } from "./token-usage";
import type { StreamUsageReader, UsageReader, UsageReading } from "./usage-reader";

// The one place Google's usage vocabulary is translated. `@google/genai` and `@google/generative-ai` call the same
// REST API (camelCase JSON); field names follow genai's `GenerateContentResponseUsageMetadata`.

/**
 * Translates a Gemini `usageMetadata` object.
 *
 * - Input: `promptTokenCount` (which includes `cachedContentTokenCount`) + `toolUsePromptTokenCount`.
 * - Output: `candidatesTokenCount` EXCLUDES `thoughtsTokenCount`, so output = candidates + thoughts, and
 *   `reasoningTokens` = thoughts.
 * - The REST API is proto3 JSON, which omits zero counts: a missing `candidatesTokenCount` or `thoughtsTokenCount`
 *   in a usage object that has other counts means 0 (a blocked prompt, an embedding, an early stream chunk).
 *   A missing `promptTokenCount` leaves the input unknown.
 */
export function googleUsage(usageMetadata: unknown): TokenUsage | undefined {
  const fields = asRecord(usageMetadata);
  if (!fields) return undefined;
  const prompt = readCount(fields.promptTokenCount);
  const toolUsePrompt = readCount(fields.toolUsePromptTokenCount);
  const candidates = readCount(fields.candidatesTokenCount);
  const thoughts = readCount(fields.thoughtsTokenCount);
  const total = readCount(fields.totalTokenCount);
  const anyCount = prompt !== undefined || candidates !== undefined || thoughts !== undefined || total !== undefined;
  return compactTokenUsage({
    inputTokens: prompt === undefined ? undefined : prompt + (toolUsePrompt ?? 0),
    cachedInputTokens: readCount(fields.cachedContentTokenCount),
    outputTokens: anyCount ? (candidates ?? 0) + (thoughts ?? 0) : undefined,
    reasoningTokens: thoughts,
  });
}

/** Characters of a candidate's `content`: text (thought summaries included), function-call args, code. */
function contentCharacters(content: unknown): number {
  let characters = 0;
  for (const part of asArray(asRecord(content)?.parts)) {
    const fields = asRecord(part);
    if (!fields) continue;
    characters += textLength(fields.text);
    characters += jsonLength(asRecord(fields.functionCall)?.args);
    characters += textLength(asRecord(fields.executableCode)?.code);
  }
  return characters;
}

interface GenerateContentChunk {
  usage: TokenUsage | undefined;
  finished: boolean;
  outputCharacters: number;
}

/** Reads one `GenerateContentResponse` (a whole body, or one streamed chunk). */
function readGenerateContentResponse(response: unknown): GenerateContentChunk {
  const fields = asRecord(response);
  let finished = false;
  let outputCharacters = 0;
  for (const candidate of asArray(fields?.candidates)) {
    const candidateFields = asRecord(candidate);
    if (!candidateFields) continue;
    outputCharacters += contentCharacters(candidateFields.content);
    const finishReason = candidateFields.finishReason;
    if (typeof finishReason === "string" && finishReason !== "") finished = true;
  }
  // A blocked prompt gets no candidates, only `promptFeedback.blockReason`: that response is over too.
  const blockReason = asRecord(fields?.promptFeedback)?.blockReason;
  if (typeof blockReason === "string" && blockReason !== "") finished = true;
  return { usage: googleUsage(fields?.usageMetadata), finished, outputCharacters };
}

/** A whole body: one response, or (`:streamGenerateContent` without `alt=sse`) a JSON array of chunks. */
function readGenerateContentBody(body: unknown): UsageReading {
  const reader = createGenerateContentStreamReader();
  for (const response of Array.isArray(body) ? body : [body]) reader.readChunk(response);
  const reading = reader.reading();
  return { ...reading, final: reading.usage !== undefined };
}

/**
 * `:streamGenerateContent?alt=sse`: `data: {GenerateContentResponse}` events, each `usageMetadata` a running total
 * for this HTTP response (the latest wins). The last chunk has a `finishReason` (or, for a blocked prompt,
 * `promptFeedback.blockReason`); usage seen with or after it is final.
 */
function createGenerateContentStreamReader(): StreamUsageReader & { readChunk(response: unknown): void } {
  let usage: TokenUsage | undefined;
  let finished = false;
  let final = false;
  let outputCharacters = 0;
  const readChunk = (response: unknown): void => {
    if (!isRecord(response)) return;
    const chunk = readGenerateContentResponse(response);
    outputCharacters += chunk.outputCharacters;
    if (chunk.finished) finished = true;
    if (chunk.usage !== undefined) {
      usage = chunk.usage;
      if (finished) final = true;
    }
  };
  return {
    readChunk,
    read(event: SseEvent): boolean {
      readChunk(parseJson(event.data));
      return false;
    },
    reading: () => ({ usage, final, outputCharacters }),
  };
}

/**
 * Embeddings. The Gemini API's `:embedContent` / `:batchEmbedContents` report no tokens (usage stays unknown);
 * Vertex's `:embedContent` returns `usageMetadata`, and Vertex's `:predict` returns
 * `predictions[].embeddings.statistics.token_count`.
 */
function readEmbedContentBody(body: unknown): UsageReading {
  const fields = asRecord(body);
  let usage = googleUsage(fields?.usageMetadata);
  if (usage === undefined && Array.isArray(fields?.predictions)) {
    let inputTokens: number | undefined;
    for (const prediction of fields.predictions) {
      const statistics = asRecord(asRecord(asRecord(prediction)?.embeddings)?.statistics);
      const count = readCount(statistics?.token_count);
      if (count !== undefined) inputTokens = (inputTokens ?? 0) + count;
    }
    if (inputTokens !== undefined) usage = { inputTokens, outputTokens: 0 };
  }
  return { usage, final: usage !== undefined, outputCharacters: 0 };
}

/** Embeddings never stream. */
function createEmbedContentStreamReader(): StreamUsageReader {
  return {
    read: () => false,
    reading: () => ({ usage: undefined, final: false, outputCharacters: 0 }),
  };
}

/** Usage of `models/{model}:generateContent` and `:streamGenerateContent`. */
export const googleGenerateContentUsageReader: UsageReader = {
  readBody: readGenerateContentBody,
  createStreamReader: createGenerateContentStreamReader,
};

/** Usage of `models/{model}:embedContent` / `:batchEmbedContents` (and Vertex `:predict`). */
export const googleEmbedContentUsageReader: UsageReader = {
  readBody: readEmbedContentBody,
  createStreamReader: createEmbedContentStreamReader,
};
