import type { OperationKind } from "../usage/operation";
import type { ProviderName } from "../usage/token-usage";
import { DEFAULT_INPUT_FACTORS, type TokenCalibration } from "./calibration";
import { baseModelId, mediaTokens } from "./media-tokens";
import { extractRequestText, type RequestText } from "./request-text";
import { countTokens, type EncodingName, type TokenizerOptions } from "./tokenizer";

/** OpenAI's published chat arithmetic: each message is wrapped in ~3 format tokens (one more with a `name`)… */
export const CHAT_TOKENS_PER_MESSAGE = 3;
/** …and every reply is primed with 3 more. Applied to Claude too (before its factor); Gemini counts neither. */
export const REPLY_PRIMING_TOKENS = 3;
/**
 * OpenAI renders function definitions into a system message with some framing (the cookbook's count: 7 per
 * function + 12 at the end). The JSON of a definition is longer than that rendering, so only the end is added.
 */
export const OPENAI_TOOLS_TOKENS = 12;
/** Claude's tool-use system prompt, added whenever `tools` is non-empty (346 for Claude 4 with `tool_choice` auto). */
export const ANTHROPIC_TOOLS_TOKENS = 346;

export interface EstimateInputOptions {
  /** The model id. Default `params.model`; the old Google SDK's requests carry none, so its callers must pass it. */
  model?: string;
  /** Learned factors. Without it the defaults (or `factors`) apply. */
  calibration?: TokenCalibration;
  /** Safety factors to use instead of `DEFAULT_INPUT_FACTORS` (the calibrated factor never goes below them). */
  factors?: Partial<Record<ProviderName, number>>;
  tokenizer?: TokenizerOptions;
}

export interface InputEstimate {
  /** Input tokens to reserve: the raw estimate times the provider factor, rounded up. */
  inputTokens: number;
  /** `"tokenizer"`: text counted with o200k / cl100k. `"heuristic"`: text too large, bounded by its UTF-8 bytes. */
  method: "tokenizer" | "heuristic";
  /** The estimate before the factor: what `TokenCalibration.observe` compares the provider's count with. */
  rawTokens: number;
  /**
   * Whether the provider's count for this call may be fed to `TokenCalibration.observe`: false for byte-bound
   * estimates and for requests with input the estimate cannot see (`RequestText.unseen`).
   */
  calibratable: boolean;
}

/** The provider an operation belongs to. */
export function providerOf(operation: OperationKind): ProviderName {
  if (operation.startsWith("openai.")) return "openai";
  if (operation.startsWith("anthropic.")) return "anthropic";
  return "google";
}

/**
 * The encoding that counts a model's input. OpenAI: cl100k_base for gpt-4 (not 4o / 4.1 / 4.5), gpt-3.5 and the
 * text-embedding-3 / ada-002 models; o200k_base for everything else, gpt-oss included (its o200k_harmony encoding
 * differs only in special tokens, which plain text never produces). Claude and Gemini: o200k_base as the proxy.
 */
export function encodingFor(provider: ProviderName, model: string): EncodingName {
  if (provider !== "openai") return "o200k_base";
  const id = baseModelId(model);
  return /^(?:gpt-4(?![o.])|gpt-3\.5|text-embedding-3|text-embedding-ada-002|babbage-002|davinci-002)/.test(id)
    ? "cl100k_base"
    : "o200k_base";
}

/**
 * The worst-case input tokens of one request, before it is sent. OpenAI: the exact tokenizer count of the text
 * plus the chat format's overhead and bounds for media. Claude and Gemini: the same on o200k, times the provider's
 * factor from `calibration` (default 1.25 and 1.1), rounded up. Texts above `tokenizer.maxTokenizeChars` in total
 * are bounded by their UTF-8 size instead; that bound holds for every provider's tokenizer, so no factor applies.
 */
export async function estimateInputTokens(
  operation: OperationKind,
  params: unknown,
  options: EstimateInputOptions = {},
): Promise<InputEstimate> {
  const provider = providerOf(operation);
  const model = options.model ?? modelOf(params);
  const request = extractRequestText(operation, params);
  const text = await countTokens(request.texts, encodingFor(provider, model), options.tokenizer);
  const rawTokens =
    text.tokens + request.tokenIds + formatTokens(operation, request) + mediaTotal(provider, model, request);
  if (text.method === "heuristic")
    return { inputTokens: rawTokens, method: "heuristic", rawTokens, calibratable: false };
  const fallback = options.factors?.[provider];
  const factor = options.calibration
    ? options.calibration.factor(provider, model, fallback)
    : (fallback ?? DEFAULT_INPUT_FACTORS[provider]);
  return {
    // The epsilon keeps float noise (100 × 1.1 = 110.00000000000001) from adding a token.
    inputTokens: Math.ceil(rawTokens * factor - 1e-9),
    method: "tokenizer",
    rawTokens,
    calibratable: request.unseen.length === 0,
  };
}

/**
 * The raw (unfactored) input estimate, for callers that apply the factor themselves. Same as
 * `(await estimateInputTokens(operation, params, { model })).rawTokens`.
 */
export async function estimateRawInputTokens(
  _provider: ProviderName,
  operation: OperationKind,
  model: string,
  params: unknown,
): Promise<number> {
  return (await estimateInputTokens(operation, params, { model })).rawTokens;
}

function modelOf(params: unknown): string {
  if (typeof params !== "object" || params === null) return "";
  const model = (params as { model?: unknown }).model;
  return typeof model === "string" ? model : "";
}

/** Tokens the provider's prompt format adds around the content. */
function formatTokens(operation: OperationKind, request: RequestText): number {
  const priming = request.messages > 0 ? REPLY_PRIMING_TOKENS : 0;
  const chat = request.messages * CHAT_TOKENS_PER_MESSAGE + request.names + priming;
  switch (operation) {
    case "openai.chat":
    case "openai.responses":
      return chat + (request.tools > 0 ? OPENAI_TOOLS_TOKENS : 0);
    case "anthropic.messages":
      return chat + (request.tools > 0 ? ANTHROPIC_TOOLS_TOKENS : 0);
    default:
      return 0;
  }
}

function mediaTotal(provider: ProviderName, model: string, request: RequestText): number {
  let tokens = 0;
  for (const media of request.media) tokens += mediaTokens(provider, model, media);
  return tokens;
}
