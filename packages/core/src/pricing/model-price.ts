import type { ProviderName } from "../usage/token-usage";

/**
 * Long-context prices of a model. All amounts are USD per 1M tokens.
 *
 * The tier whose `minInputTokens` is the highest one still ≤ the call's total `inputTokens` (cached and
 * cache-write tokens included) prices the **whole** call, input and output alike. That is how Anthropic and
 * Google bill prompts above 200k tokens and OpenAI bills prompts of 272k tokens or more.
 *
 * A field a tier leaves out falls back inside the tier, as the base price does: `cachedInput` and
 * `cacheWrite` to the tier's `input`, `cacheWrite1h` to the tier's `cacheWrite`, then `input`. Tiers carry
 * no reasoning rate: inside a tier, reasoning tokens are billed at the tier's `output`.
 */
export interface PriceTier {
  /** The tier applies when the call has at least this many input tokens (inclusive). */
  minInputTokens: number;
  /** Uncached input tokens. */
  input: number;
  /** Output tokens, reasoning tokens included. */
  output: number;
  /** Input tokens read from the prompt cache. */
  cachedInput?: number;
  /** Input tokens written to the prompt cache with the default (5 minute) lifetime. */
  cacheWrite?: number;
  /** Input tokens written to the prompt cache with a one hour lifetime. */
  cacheWrite1h?: number;
}

/**
 * What one model costs. All amounts are USD per 1M tokens; they are used with a precision of 1e-6 USD per
 * 1M tokens (1 pico-USD per token).
 *
 * Absent optional rates fall back: `cachedInput` and `cacheWrite` to `input`, `cacheWrite1h` to
 * `cacheWrite` then `input`, `reasoningOutput` to `output`.
 */
export interface ModelPrice {
  provider: ProviderName;
  /** The model name, lower case, without a `models/` prefix. */
  model: string;
  /** `exact`: the whole name must equal `model`. `prefix`: the name must start with `model`. */
  match: "exact" | "prefix";
  /** Uncached input tokens. */
  input: number;
  /** Output tokens (reasoning tokens too, unless `reasoningOutput` is given). */
  output: number;
  /** Input tokens read from the prompt cache. */
  cachedInput?: number;
  /** Input tokens written to the prompt cache with the default (5 minute) lifetime. */
  cacheWrite?: number;
  /** Input tokens written to the prompt cache with a one hour lifetime. */
  cacheWrite1h?: number;
  /** Reasoning/thinking tokens, when a provider prices them apart from other output. */
  reasoningOutput?: number;
  /** Long-context prices, in any order. See {@link PriceTier}. */
  tiers?: PriceTier[];
}

/**
 * A price supplied by the user, for a fine-tune, a negotiated rate or a model the bundled table does not
 * know: a {@link ModelPrice} without `provider`, `model` and `match`, which come from where it is given
 * (the key of `overrides`, or the arguments of a {@link PriceResolver}). Overrides always match exactly.
 *
 * @example
 * const prices: Record<string, PriceOverride> = {
 *   "ft:gpt-4o-mini-2024-07-18:acme::abc123": { input: 0.3, output: 1.2, cachedInput: 0.15 },
 * };
 */
export type PriceOverride = Omit<ModelPrice, "provider" | "model" | "match">;

/**
 * Looks up a price the user knows, before the bundled table is consulted. Return `undefined` to fall
 * through to the table. Called with the model name exactly as the caller passed it to the SDK.
 */
export type PriceResolver = (provider: ProviderName, model: string) => PriceOverride | undefined;
