import { TokenCalibration } from "../estimation/calibration";
import { estimateRawInputTokens } from "../estimation/input-estimate";
import type { OperationKind } from "../usage/operation";
import type { ProviderName } from "../usage/token-usage";
import type { ResolvedOptions } from "./guard-options";

/** The input side of an estimate: the raw count and the reserved count (raw × the provider's factor). */
export interface InputEstimate {
  rawTokens: number;
  inputTokens: number;
}

/**
 * Estimates input tokens before a call. OpenAI counts are exact tokenizer counts of what is sent; Claude and Gemini
 * get the o200k count times a safety factor that self-calibrates from actual usage.
 */
export class InputEstimator {
  private readonly calibration = new TokenCalibration();

  constructor(private readonly options: Pick<ResolvedOptions, "anthropicFactor" | "googleFactor" | "calibrate">) {}

  async estimate(
    provider: ProviderName,
    operation: OperationKind,
    model: string,
    params: unknown,
  ): Promise<InputEstimate> {
    const rawTokens = await estimateRawInputTokens(provider, operation, model, params);
    if (provider === "openai") return { rawTokens, inputTokens: rawTokens };
    const fallback = provider === "anthropic" ? this.options.anthropicFactor : this.options.googleFactor;
    const factor = this.options.calibrate ? this.calibration.factor(provider, model, fallback) : fallback;
    return { rawTokens, inputTokens: Math.ceil(rawTokens * factor) };
  }

  observe(provider: ProviderName, model: string, rawTokens: number, actualInputTokens: number): void {
    if (provider !== "openai" && this.options.calibrate) {
      this.calibration.observe(provider, model, rawTokens, actualInputTokens);
    }
  }
}
