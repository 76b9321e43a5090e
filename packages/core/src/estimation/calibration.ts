import type { ProviderName } from "../usage/token-usage";

const maxTrackedModels = 1_000;
const smoothing = 0.2;

/**
 * Learns, per provider and model, how the real input count compares with the o200k estimate (Claude and Gemini
 * tokenise differently and publish no tokenizer). The factor used is `max(default, ewma × margin)`: it only ever
 * raises the reservation above the configured safety factor, never below it.
 */
export class TokenCalibration {
  private readonly ratios = new Map<string, number>();

  constructor(private readonly margin = 1.05) {}

  factor(provider: ProviderName, model: string, fallback: number): number {
    const ratio = this.ratios.get(`${provider}/${model}`);
    return ratio === undefined ? fallback : Math.max(fallback, ratio * this.margin);
  }

  /** Takes one settled call into account: `estimated` is the raw count before any factor. */
  observe(provider: ProviderName, model: string, estimated: number, actual: number): void {
    if (!(estimated > 0) || !(actual > 0) || !Number.isFinite(actual)) return;
    const key = `${provider}/${model}`;
    const sample = actual / estimated;
    const previous = this.ratios.get(key);
    this.ratios.delete(key); // re-insert to keep the map in least-recently-updated order
    this.ratios.set(key, previous === undefined ? sample : previous + smoothing * (sample - previous));
    if (this.ratios.size > maxTrackedModels) {
      const oldest = this.ratios.keys().next().value;
      if (oldest !== undefined) this.ratios.delete(oldest);
    }
  }

  get trackedModels(): number {
    return this.ratios.size;
  }
}
