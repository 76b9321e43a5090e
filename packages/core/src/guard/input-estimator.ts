import { TokenCalibration } from "../estimation/calibration";
import { estimateInputTokens } from "../estimation/input-estimate";
import type { OperationKind } from "../usage/operation";
import type { ProviderName } from "../usage/token-usage";
import type { ResolvedOptions } from "./guard-options";

/** The input side of an estimate: the count to reserve, and the raw count calibration may learn from (0: none). */
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
  private readonly factors: Partial<Record<ProviderName, number>>;

  constructor(private readonly options: Pick<ResolvedOptions, "anthropicFactor" | "googleFactor" | "calibrate">) {
    this.factors = { anthropic: options.anthropicFactor, google: options.googleFactor };
  }

  async estimate(
    provider: ProviderName,
    operation: OperationKind,
    model: string,
    params: unknown,
  ): Promise<InputEstimate> {
    const estimate = await estimateInputTokens(operation, params, {
      model,
      factors: this.factors,
      ...(this.options.calibrate ? { calibration: this.calibration } : {}),
    });
    // Byte-bound estimates and requests with input the estimate cannot see must not teach the calibration.
    const learnable = provider !== "openai" && estimate.calibratable;
    return { inputTokens: estimate.inputTokens, rawTokens: learnable ? estimate.rawTokens : 0 };
  }

  observe(provider: ProviderName, model: string, rawTokens: number, actualInputTokens: number): void {
    if (this.options.calibrate && rawTokens > 0)
      this.calibration.observe(provider, model, rawTokens, actualInputTokens);
  }
}
