import type { ProviderName } from "../usage/token-usage";

/**
 * Safety factors on the o200k count before any calibration: Claude and Gemini tokenise differently and publish no
 * tokenizer. OpenAI counts are exact (same encoding as the API), so 1.
 */
export const DEFAULT_INPUT_FACTORS: Readonly<Record<ProviderName, number>> = {
  openai: 1,
  anthropic: 1.25,
  google: 1.1,
};

export interface TokenCalibrationOptions {
  /** The factor never goes below these (per provider). Default `DEFAULT_INPUT_FACTORS`. */
  defaults?: Partial<Record<ProviderName, number>>;
  /** Headroom on the learned ratio: `factor = max(default, ewma × margin)`. Default 1.05. */
  margin?: number;
  /** Weight of the newest observation in the moving average, in (0, 1]. Default 0.2. */
  smoothing?: number;
  /** Most (provider, model) pairs tracked; the least recently observed one is dropped beyond it. Default 1,000. */
  maxModels?: number;
  /**
   * Observations whose estimate is below this are ignored: on tiny prompts fixed overheads the estimate models
   * only roughly (role markers, Gemini's none) dominate the ratio. Default 32 tokens.
   */
  minEstimatedTokens?: number;
}

/** One observation's ratio is clamped to this range, so a single odd call cannot swing the average far. */
const minRatio = 0.1;
const maxRatio = 10;
/** Model ids are truncated to this length in keys, which bounds the memory of each entry. */
const maxModelLength = 200;

/**
 * Learns, per (provider, model), how the provider's real input count compares with the uncalibrated estimate, as an
 * exponentially weighted moving average of `actual / estimated`. The factor applied is
 * `max(default, ewma × margin)`: it only ever raises the reservation above the configured safety factor, never
 * lowers it, so a run of over-estimates cannot make the guard optimistic.
 *
 * Memory is bounded: at most `maxModels` entries, the least recently observed dropped first (a Map kept in
 * observation order).
 */
export class TokenCalibration {
  private readonly ratios = new Map<string, number>();
  private readonly defaults: Readonly<Record<ProviderName, number>>;
  private readonly margin: number;
  private readonly smoothing: number;
  private readonly maxModels: number;
  private readonly minEstimatedTokens: number;

  constructor(options: TokenCalibrationOptions = {}) {
    this.defaults = { ...DEFAULT_INPUT_FACTORS, ...definedFactors(options.defaults) };
    this.margin = positiveOr(options.margin, 1.05);
    this.smoothing = Math.min(1, positiveOr(options.smoothing, 0.2));
    this.maxModels = Math.max(1, Math.floor(positiveOr(options.maxModels, 1_000)));
    this.minEstimatedTokens = Math.max(0, options.minEstimatedTokens ?? 32);
  }

  /**
   * The factor to multiply an uncalibrated estimate by. `fallback` overrides the configured default for this call
   * (the guard passes its `estimation.anthropicFactor` / `googleFactor`).
   */
  factor(provider: ProviderName, model: string, fallback?: number): number {
    const floor = fallback !== undefined && fallback > 0 ? fallback : this.defaults[provider];
    const ratio = this.ratios.get(key(provider, model));
    return ratio === undefined ? floor : Math.max(floor, ratio * this.margin);
  }

  /**
   * Takes one settled call into account. `estimated` is the uncalibrated estimate (before any factor) and `actual`
   * the provider's total input count, cached and cache-write tokens included. Ignores nonsense: missing, zero,
   * negative or non-finite counts, and estimates below `minEstimatedTokens`.
   */
  observe(provider: ProviderName, model: string, estimated: number, actual: number | undefined): void {
    if (actual === undefined || !Number.isFinite(actual) || actual <= 0) return;
    if (!Number.isFinite(estimated) || estimated <= 0 || estimated < this.minEstimatedTokens) return;
    const sample = Math.min(maxRatio, Math.max(minRatio, actual / estimated));
    const entry = key(provider, model);
    const previous = this.ratios.get(entry);
    this.ratios.delete(entry); // re-inserted last: the Map stays in least-recently-observed order
    this.ratios.set(entry, previous === undefined ? sample : previous + this.smoothing * (sample - previous));
    while (this.ratios.size > this.maxModels) {
      const oldest = this.ratios.keys().next().value;
      if (oldest === undefined) break;
      this.ratios.delete(oldest);
    }
  }

  /** The learned average `actual / estimated`, if any observation was kept. */
  ratio(provider: ProviderName, model: string): number | undefined {
    return this.ratios.get(key(provider, model));
  }

  get trackedModels(): number {
    return this.ratios.size;
  }
}

/** Same as `new TokenCalibration(options)`. */
export function createTokenCalibration(options: TokenCalibrationOptions = {}): TokenCalibration {
  return new TokenCalibration(options);
}

function key(provider: ProviderName, model: string): string {
  return `${provider}/${model.length > maxModelLength ? model.slice(0, maxModelLength) : model}`;
}

function positiveOr(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

function definedFactors(
  factors: Partial<Record<ProviderName, number>> | undefined,
): Partial<Record<ProviderName, number>> {
  const result: Partial<Record<ProviderName, number>> = {};
  for (const provider of ["openai", "anthropic", "google"] as const) {
    const value = factors?.[provider];
    if (value !== undefined && Number.isFinite(value) && value > 0) result[provider] = value;
  }
  return result;
}
