import type Anthropic from "@anthropic-ai/sdk";
import type { GenerateContentResponseUsageMetadata } from "@google/genai";
import type OpenAI from "openai";
import type { FakeUsage } from "../src/index";

/**
 * Translations of what each SDK hands its caller back into the fake's normalised usage, written independently
 * of the fake's own wire code so the tests compare two implementations of the same arithmetic.
 */
export function fromChatUsage(usage: OpenAI.CompletionUsage | undefined): Required<FakeUsage> | undefined {
  if (usage === undefined) {
    return undefined;
  }
  return {
    inputTokens: usage.prompt_tokens,
    cachedInputTokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
    cacheWriteInputTokens: usage.prompt_tokens_details?.cache_write_tokens ?? 0,
    cacheWrite1hInputTokens: 0,
    outputTokens: usage.completion_tokens,
    reasoningTokens: usage.completion_tokens_details?.reasoning_tokens ?? 0,
  };
}

export function fromResponsesUsage(usage: OpenAI.Responses.ResponseUsage | undefined): Required<FakeUsage> | undefined {
  if (usage === undefined) {
    return undefined;
  }
  return {
    inputTokens: usage.input_tokens,
    cachedInputTokens: usage.input_tokens_details.cached_tokens,
    cacheWriteInputTokens: usage.input_tokens_details.cache_write_tokens,
    cacheWrite1hInputTokens: 0,
    outputTokens: usage.output_tokens,
    reasoningTokens: usage.output_tokens_details.reasoning_tokens,
  };
}

/** Anthropic's `input_tokens` excludes the cache parts; the normalised total adds them back. */
export function fromAnthropicUsage(usage: Anthropic.Usage | undefined): Required<FakeUsage> | undefined {
  if (usage === undefined) {
    return undefined;
  }
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const cacheCreation = usage.cache_creation_input_tokens ?? 0;
  return {
    inputTokens: usage.input_tokens + cacheRead + cacheCreation,
    cachedInputTokens: cacheRead,
    cacheWriteInputTokens: usage.cache_creation?.ephemeral_5m_input_tokens ?? cacheCreation,
    cacheWrite1hInputTokens: usage.cache_creation?.ephemeral_1h_input_tokens ?? 0,
    outputTokens: usage.output_tokens,
    reasoningTokens: usage.output_tokens_details?.thinking_tokens ?? 0,
  };
}

/** Gemini's `candidatesTokenCount` excludes thoughts; the normalised output adds them back. */
export function fromGeminiUsage(
  usage:
    | GenerateContentResponseUsageMetadata
    | {
        promptTokenCount?: number;
        candidatesTokenCount?: number;
        cachedContentTokenCount?: number;
        thoughtsTokenCount?: number;
      }
    | undefined,
): Required<FakeUsage> | undefined {
  if (usage === undefined) {
    return undefined;
  }
  const reasoning = "thoughtsTokenCount" in usage ? (usage.thoughtsTokenCount ?? 0) : 0;
  return {
    inputTokens: usage.promptTokenCount ?? 0,
    cachedInputTokens: usage.cachedContentTokenCount ?? 0,
    cacheWriteInputTokens: 0,
    cacheWrite1hInputTokens: 0,
    outputTokens: (usage.candidatesTokenCount ?? 0) + reasoning,
    reasoningTokens: reasoning,
  };
}

/** A usage with every cache and reasoning field non-zero, for the rules the tests configure. */
export const richUsage = {
  inputTokens: 1000,
  cachedInputTokens: 600,
  cacheWriteInputTokens: 100,
  cacheWrite1hInputTokens: 50,
  outputTokens: 12,
  reasoningTokens: 4,
} as const satisfies Required<FakeUsage>;

/** `richUsage` as OpenAI's wire can carry it: one cache-write count. */
export const richUsageOnOpenAI: Required<FakeUsage> = {
  ...richUsage,
  cacheWriteInputTokens: 150,
  cacheWrite1hInputTokens: 0,
};

/** `richUsage` as Gemini's wire can carry it: no cache-write counts (they stay inside the prompt count). */
export const richUsageOnGemini: Required<FakeUsage> = {
  ...richUsage,
  cacheWriteInputTokens: 0,
  cacheWrite1hInputTokens: 0,
};

/** The deterministic reply text for `count` visible tokens. */
export function expectedReply(count: number): string {
  return Array.from({ length: count }, (_unused, index) => `w${index + 1} `).join("");
}
