import type { TokenUsage } from "./token-usage";

/**
 * Builds a `TokenUsage`, leaving out the optional parts that are unknown, or returns `undefined` when neither the
 * input nor the output total is known (a usage object that says nothing is no usage at all).
 */
export function compactTokenUsage(fields: TokenUsage): TokenUsage | undefined {
  if (fields.inputTokens === undefined && fields.outputTokens === undefined) return undefined;
  const usage: TokenUsage = { inputTokens: fields.inputTokens, outputTokens: fields.outputTokens };
  if (fields.cachedInputTokens !== undefined) usage.cachedInputTokens = fields.cachedInputTokens;
  if (fields.cacheWriteInputTokens !== undefined) usage.cacheWriteInputTokens = fields.cacheWriteInputTokens;
  if (fields.cacheWrite1hInputTokens !== undefined) usage.cacheWrite1hInputTokens = fields.cacheWrite1hInputTokens;
  if (fields.reasoningTokens !== undefined) usage.reasoningTokens = fields.reasoningTokens;
  return usage;
}
