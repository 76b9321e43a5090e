import type { TokenUsage } from "../usage/token-usage";
import type { ModelPrice, PriceTier } from "./model-price";

/** Nano-USD in one US dollar. Money is kept as integer nano-USD, never as summed floats. */
export const NANO_USD_PER_USD = 1_000_000_000;

/**
 * Rates are held as integer pico-USD per token: `usdPerMTok × 1e6`, rounded to the nearest integer, so a
 * price is used with a precision of 1e-6 USD per 1M tokens. `tokens × rate` is then an exact integer.
 */
const PICO_PER_TOKEN_PER_USD_PER_MTOK = 1_000_000;
const PICO_PER_NANO = 1000;

/** The cost of one call. */
export interface CallCost {
  /** Integer nano-USD (1 USD = 1e9), rounded up once for the whole call. */
  costNanoUsd: number;
  /** `false` when `inputTokens` or `outputTokens` was unknown; the unknown part was counted as 0. */
  complete: boolean;
}

interface Rates {
  input: number;
  output: number;
  cachedInput: number;
  cacheWrite: number;
  cacheWrite1h: number;
  reasoningOutput: number;
}

function picoPerToken(usdPerMTok: number, name: string): number {
  if (typeof usdPerMTok !== "number" || !Number.isFinite(usdPerMTok) || usdPerMTok < 0) {
    throw new RangeError(
      `Invalid price ${name}: ${String(usdPerMTok)} (expected a finite USD amount ≥ 0 per 1M tokens)`,
    );
  }
  return Math.round(usdPerMTok * PICO_PER_TOKEN_PER_USD_PER_MTOK);
}

/** The tier with the highest `minInputTokens` that is ≤ `inputTokens`, if any. */
function tierFor(price: ModelPrice, inputTokens: number): PriceTier | undefined {
  let chosen: PriceTier | undefined;
  for (const tier of price.tiers ?? []) {
    if (tier.minInputTokens <= inputTokens && (chosen === undefined || tier.minInputTokens > chosen.minInputTokens)) {
      chosen = tier;
    }
  }
  return chosen;
}

function ratesFor(price: ModelPrice, inputTokens: number): Rates {
  const tier = tierFor(price, inputTokens);
  const base = tier ?? price;
  const input = picoPerToken(base.input, "input");
  const output = picoPerToken(base.output, "output");
  const cacheWrite = base.cacheWrite === undefined ? input : picoPerToken(base.cacheWrite, "cacheWrite");
  return {
    input,
    output,
    cachedInput: base.cachedInput === undefined ? input : picoPerToken(base.cachedInput, "cachedInput"),
    cacheWrite,
    cacheWrite1h: base.cacheWrite1h === undefined ? cacheWrite : picoPerToken(base.cacheWrite1h, "cacheWrite1h"),
    // Tiers carry no reasoning rate: inside a tier, reasoning is billed as the tier's output.
    reasoningOutput:
      tier === undefined && price.reasoningOutput !== undefined
        ? picoPerToken(price.reasoningOutput, "reasoningOutput")
        : output,
  };
}

/** A usable token count: finite and ≥ 0, rounded up to an integer. Anything else is unknown. */
function tokenCount(value: number | undefined): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? Math.ceil(value) : undefined;
}

function requiredTokenCount(value: number, name: string): number {
  const count = tokenCount(value);
  if (count === undefined) throw new RangeError(`Invalid ${name}: ${String(value)} (expected a finite count ≥ 0)`);
  return count;
}

type Term = readonly [tokens: number, picoPerToken: number];

/**
 * Σ tokens × pico-USD rate, in nano-USD rounded up. Summed with doubles, the result is exact whenever it is
 * at most `Number.MAX_SAFE_INTEGER`, since every term and partial sum is then a safe integer (terms are
 * integers ≥ 0); a larger sum is recomputed as BigInt.
 */
function ceilNanoUsd(terms: readonly Term[]): number {
  let pico = 0;
  for (const [tokens, rate] of terms) pico += tokens * rate;
  if (pico <= Number.MAX_SAFE_INTEGER) {
    const remainder = pico % PICO_PER_NANO;
    return (pico - remainder) / PICO_PER_NANO + (remainder > 0 ? 1 : 0);
  }
  let big = 0n;
  for (const [tokens, rate] of terms) big += BigInt(tokens) * BigInt(rate);
  return Number((big + BigInt(PICO_PER_NANO - 1)) / BigInt(PICO_PER_NANO));
}

/**
 * What a call cost, in integer nano-USD.
 *
 * - Uncached input (`inputTokens` − cached − cache writes) at `input`; cached input at `cachedInput`;
 *   5-minute cache writes at `cacheWrite`; 1-hour cache writes at `cacheWrite1h` (fallbacks as documented
 *   on {@link ModelPrice}).
 * - Output at `output`, its reasoning tokens at `reasoningOutput` when the price has one.
 * - The tier is chosen by the total input tokens, cached and cache-write tokens included.
 * - The exact sum is rounded up to a whole nano-USD once per call, so summing many small calls can come to
 *   a few nano-USD more than pricing their tokens together.
 *
 * Unknown (`undefined`, negative or non-finite) counts are treated as 0 and make `complete` false when
 * they are `inputTokens` or `outputTokens`. Parts known without their total are still billed; parts that
 * exceed their total are billed in full and the rest of the total as 0. Fractional counts are rounded up.
 *
 * @throws RangeError when a rate of `price` is negative or not finite.
 */
export function costNanoUsd(price: ModelPrice, usage: TokenUsage): CallCost {
  const inputTokens = tokenCount(usage.inputTokens);
  const outputTokens = tokenCount(usage.outputTokens);
  const cached = tokenCount(usage.cachedInputTokens) ?? 0;
  const cacheWrite = tokenCount(usage.cacheWriteInputTokens) ?? 0;
  const cacheWrite1h = tokenCount(usage.cacheWrite1hInputTokens) ?? 0;
  const reasoning = tokenCount(usage.reasoningTokens) ?? 0;

  const inputParts = cached + cacheWrite + cacheWrite1h;
  const uncached = Math.max(0, (inputTokens ?? 0) - inputParts);
  const plainOutput = Math.max(0, (outputTokens ?? 0) - reasoning);
  const rates = ratesFor(price, uncached + inputParts);

  return {
    costNanoUsd: ceilNanoUsd([
      [uncached, rates.input],
      [cached, rates.cachedInput],
      [cacheWrite, rates.cacheWrite],
      [cacheWrite1h, rates.cacheWrite1h],
      [plainOutput, rates.output],
      [reasoning, rates.reasoningOutput],
    ]),
    complete: inputTokens !== undefined && outputTokens !== undefined,
  };
}

/**
 * An upper bound of what a call can cost, in integer nano-USD, for reserving budget before the call.
 *
 * Tier by `inputTokens`. Every input token is priced at the dearest input rate of that tier,
 * `max(input, cachedInput, cacheWrite, cacheWrite1h)`: cache discounts are ignored, and cache writes, which
 * cost more than plain input, are covered. Every output token is priced at `max(output, reasoningOutput)`
 * (inside a tier, the tier's output). For the same `inputTokens`, `costNanoUsd` of any usage with at most
 * `maxOutputTokens` output tokens is never higher. If the real input crosses into a dearer tier than the
 * estimate, the real cost can be higher: estimate input generously.
 *
 * @throws RangeError when a count is negative or not finite, or a rate of `price` is.
 */
export function worstCaseCostNanoUsd(price: ModelPrice, inputTokens: number, maxOutputTokens: number): number {
  const input = requiredTokenCount(inputTokens, "inputTokens");
  const output = requiredTokenCount(maxOutputTokens, "maxOutputTokens");
  const rates = ratesFor(price, input);
  const inputRate = Math.max(rates.input, rates.cachedInput, rates.cacheWrite, rates.cacheWrite1h);
  const outputRate = Math.max(rates.output, rates.reasoningOutput);
  return ceilNanoUsd([
    [input, inputRate],
    [output, outputRate],
  ]);
}

const NANO_PER_DISPLAY_UNIT = 100_000; // $0.0001

/**
 * Nano-USD as dollars for messages: 4 decimal places at most, 2 at least (`$12.50`, `$0.0123`, `$0.00`).
 * An amount that is not zero but under $0.0001 is shown in full (`$0.0000025`) rather than as `$0.00`.
 */
export function formatUsd(nanoUsd: number): string {
  if (!Number.isFinite(nanoUsd)) return `$${String(nanoUsd)}`;
  const sign = nanoUsd < 0 ? "-" : "";
  const nano = Math.abs(Math.round(nanoUsd));
  if (nano > 0 && nano < NANO_PER_DISPLAY_UNIT / 2) {
    const fraction = String(nano).padStart(9, "0").replace(/0+$/, "");
    return `${sign}$0.${fraction}`;
  }
  const units = Math.floor((nano + NANO_PER_DISPLAY_UNIT / 2) / NANO_PER_DISPLAY_UNIT); // round half up
  const dollars = Math.floor(units / 10_000);
  const fraction = String(units % 10_000)
    .padStart(4, "0")
    .replace(/0{1,2}$/, "");
  return `${sign}$${dollars}.${fraction}`;
}
