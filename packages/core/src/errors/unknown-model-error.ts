import type { ProviderName } from "../usage/token-usage";
import { hasCode, TollgateError } from "./tollgate-error";

/**
 * The model has no known price while a cost limit applies. An unknown model is never treated as free: add a
 * price with `prices` or `priceResolver`, or choose a fallback with `onUnknownModel`.
 */
export class UnknownModelError extends TollgateError {
  declare readonly code: "UNKNOWN_MODEL";
  readonly provider: ProviderName;
  readonly model: string;

  constructor(provider: ProviderName, model: string) {
    super(
      "UNKNOWN_MODEL",
      `No price is known for ${provider} model "${model}" and a cost limit applies; set \`prices\`, \`priceResolver\` or \`onUnknownModel\``,
    );
    this.name = "UnknownModelError";
    this.provider = provider;
    this.model = model;
  }

  static override isInstance(error: unknown): error is UnknownModelError {
    return hasCode(error, ["UNKNOWN_MODEL"]);
  }
}
