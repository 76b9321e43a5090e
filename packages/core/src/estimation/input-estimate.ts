import type { OperationKind } from "../usage/operation";
import type { ProviderName } from "../usage/token-usage";
import { requestInput } from "./request-text";
import { countTokens, type Encoding } from "./tokenizer";

/** Chat formats add a few tokens per message and to prime the reply (OpenAI's published arithmetic). */
const tokensPerMessage = 3;
const replyPrimingTokens = 3;

/**
 * Tokens charged per image or file, as conservative bounds: OpenAI high detail on a 2048×768 image is
 * 85 + 170 × 6 tiles = 1105; Claude caps images at about 1600 tokens; Gemini at 258 per 768 px tile, a few tiles.
 * A PDF can cost far more; input limits see the bound, the settlement sees the truth.
 */
const tokensPerImage: Record<ProviderName, number> = { openai: 1_105, anthropic: 1_600, google: 1_032 };

export function encodingFor(provider: ProviderName, model: string): Encoding {
  if (provider !== "openai") return "o200k_base";
  return /^(gpt-4(?!o|\.|-?5)|gpt-3\.5|text-embedding-3|text-embedding-ada)/.test(model) ? "cl100k_base" : "o200k_base";
}

/** The raw input estimate of a request before any provider factor: tokens of its text plus fixed overheads. */
export async function estimateRawInputTokens(
  provider: ProviderName,
  operation: OperationKind,
  model: string,
  params: unknown,
): Promise<number> {
  const input = requestInput(operation, params);
  const textTokens = await countTokens(input.text, encodingFor(provider, model));
  const overhead = input.messages > 0 ? input.messages * tokensPerMessage + replyPrimingTokens : 0;
  return textTokens + overhead + input.images * tokensPerImage[provider];
}
