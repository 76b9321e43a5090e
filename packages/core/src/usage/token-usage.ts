/** The providers Tollgate understands. */
export type ProviderName = "openai" | "anthropic" | "google";

/**
 * Token usage of one call in provider-neutral words. Every provider's vocabulary is translated into this
 * shape in exactly one file (`usage/<provider>-usage.ts`).
 *
 * Totals include their parts: `inputTokens` includes cached and cache-write tokens, `outputTokens` includes
 * reasoning tokens, whatever the provider's own arithmetic. `undefined` means unknown, never zero.
 */
export interface TokenUsage {
  /** All input tokens, cached and cache-written ones included. */
  inputTokens: number | undefined;
  /** Input tokens read from the provider's prompt cache (part of `inputTokens`). */
  cachedInputTokens?: number | undefined;
  /** Input tokens written to the prompt cache with the default (5 minute) lifetime (part of `inputTokens`). */
  cacheWriteInputTokens?: number | undefined;
  /** Input tokens written to the prompt cache with a one hour lifetime (part of `inputTokens`). */
  cacheWrite1hInputTokens?: number | undefined;
  /** All output tokens, reasoning/thinking tokens included. */
  outputTokens: number | undefined;
  /** Reasoning or thinking tokens (part of `outputTokens`). */
  reasoningTokens?: number | undefined;
}
