import type { FakeOperation } from "./fake-rules";
import { isRecord } from "./is-record";

/**
 * Token usage in provider-neutral words, the same vocabulary as `@tollgate/core`'s `TokenUsage`.
 * Totals include their parts, whatever the provider's own arithmetic.
 */
export interface FakeUsage {
  /** All input tokens, cached and cache-write tokens included. */
  inputTokens?: number;
  /** Input tokens read from the prompt cache (part of `inputTokens`). */
  cachedInputTokens?: number;
  /** Input tokens written to the prompt cache with the 5-minute lifetime (part of `inputTokens`). */
  cacheWriteInputTokens?: number;
  /** Input tokens written to the prompt cache with the 1-hour lifetime (part of `inputTokens`). */
  cacheWrite1hInputTokens?: number;
  /** All output tokens, reasoning tokens included. */
  outputTokens?: number;
  /** Reasoning or thinking tokens (part of `outputTokens`). */
  reasoningTokens?: number;
}

/** Characters per token of the fake's tokenizer; Google's own rule of thumb, and easy to compute in a test. */
export const charactersPerToken = 4;

/** Output tokens of a generating call when neither the request nor a rule says otherwise. */
export const defaultOutputTokenCount = 16;

/**
 * Keys under which a request body carries text, for all three providers: chat `messages[].content`,
 * Anthropic `system`, Responses `instructions`/`input`, Gemini `contents[].parts[].text` and
 * `systemInstruction`, embedding `input`, batch embedding `requests[].content`, and the old Gemini SDK's
 * `countTokens` wrapper `generateContentRequest`. Walking only these keys keeps `model`, `role`, `type` and
 * configuration strings out of the count.
 */
const textBearingKeys = new Set([
  "messages",
  "content",
  "text",
  "system",
  "instructions",
  "input",
  "contents",
  "parts",
  "systemInstruction",
  "requests",
  "generateContentRequest",
]);

const generatingOperations = new Set<FakeOperation>([
  "openai.chat",
  "openai.responses",
  "anthropic.messages",
  "google.generateContent",
  "google.streamGenerateContent",
]);

/** Total length (JavaScript string length) of every string reachable from `value` through text-bearing keys. */
export function countTextCharacters(value: unknown): number {
  if (typeof value === "string") {
    return value.length;
  }
  if (Array.isArray(value)) {
    let total = 0;
    for (const item of value) {
      total += countTextCharacters(item);
    }
    return total;
  }
  if (isRecord(value)) {
    let total = 0;
    for (const [key, child] of Object.entries(value)) {
      if (textBearingKeys.has(key)) {
        total += countTextCharacters(child);
      }
    }
    return total;
  }
  return 0;
}

/** The request's own output cap in whichever field its API uses, if it set one. */
export function requestedOutputTokenCap(operation: FakeOperation, body: unknown): number | undefined {
  if (!isRecord(body)) {
    return undefined;
  }
  switch (operation) {
    case "openai.chat":
      return numberField(body, "max_completion_tokens") ?? numberField(body, "max_tokens");
    case "openai.responses":
      return numberField(body, "max_output_tokens");
    case "anthropic.messages":
      return numberField(body, "max_tokens");
    case "google.generateContent":
    case "google.streamGenerateContent": {
      const generationConfig = body.generationConfig;
      return isRecord(generationConfig) ? numberField(generationConfig, "maxOutputTokens") : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * Usage derived from the request alone, so tests can predict it: `inputTokens = max(1, ceil(C / 4))` where
 * `C` counts the characters of the text the request sends, and `outputTokens = min(defaultOutputTokens, cap)`
 * for generating calls (0 for embeddings, token counts and model listings). Cache and reasoning parts are 0.
 */
export function deriveUsage(operation: FakeOperation, body: unknown, defaultOutputTokens: number): Required<FakeUsage> {
  const inputTokens = Math.max(1, Math.ceil(countTextCharacters(body) / charactersPerToken));
  let outputTokens = 0;
  if (generatingOperations.has(operation)) {
    const cap = requestedOutputTokenCap(operation, body);
    outputTokens = cap === undefined ? defaultOutputTokens : Math.max(0, Math.min(defaultOutputTokens, cap));
  }
  return {
    inputTokens,
    cachedInputTokens: 0,
    cacheWriteInputTokens: 0,
    cacheWrite1hInputTokens: 0,
    outputTokens,
    reasoningTokens: 0,
  };
}

/**
 * Applies overrides in order (later fields win), then keeps totals no smaller than their parts, because every
 * provider's wire format assumes that (Anthropic would otherwise report negative uncached input).
 */
export function applyUsageOverrides(
  base: Required<FakeUsage>,
  overrides: ReadonlyArray<FakeUsage | undefined>,
): Required<FakeUsage> {
  const merged: Required<FakeUsage> = { ...base };
  for (const override of overrides) {
    if (override === undefined) {
      continue;
    }
    for (const key of usageKeys) {
      const value = override[key];
      if (typeof value === "number" && Number.isFinite(value)) {
        merged[key] = Math.max(0, Math.floor(value));
      }
    }
  }
  const inputParts = merged.cachedInputTokens + merged.cacheWriteInputTokens + merged.cacheWrite1hInputTokens;
  merged.inputTokens = Math.max(merged.inputTokens, inputParts);
  merged.outputTokens = Math.max(merged.outputTokens, merged.reasoningTokens);
  return merged;
}

/** Output tokens that become visible reply text: reasoning tokens are billed but, as with real models, not shown. */
export function visibleOutputTokens(usage: Required<FakeUsage>): number {
  return usage.outputTokens - usage.reasoningTokens;
}

/** The deterministic reply: visible output token `i` (1-based) is the word `w{i} `. */
export function replyWords(count: number): string[] {
  return Array.from({ length: count }, (_unused, index) => `w${index + 1} `);
}

const usageKeys = [
  "inputTokens",
  "cachedInputTokens",
  "cacheWriteInputTokens",
  "cacheWrite1hInputTokens",
  "outputTokens",
  "reasoningTokens",
] as const satisfies ReadonlyArray<keyof FakeUsage>;

function numberField(record: Record<string, unknown>, key: string): number | undefined {
  const value = record[key];
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}
