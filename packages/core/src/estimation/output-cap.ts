import type { OperationKind } from "../usage/operation";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function positive(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? Math.ceil(value) : undefined;
}

/**
 * The most output tokens a request allows, from the provider's own field; `undefined` when the request sets none.
 * Embeddings produce no output, so their cap is 0. Gemini reads `config.maxOutputTokens` (@google/genai) or
 * `generationConfig.maxOutputTokens` (REST and @google/generative-ai).
 */
export function readOutputCap(operation: OperationKind, params: unknown): number | undefined {
  if (operation === "openai.embeddings" || operation === "google.embedContent") return 0;
  if (!isRecord(params)) return undefined;
  switch (operation) {
    case "openai.chat":
      return positive(params.max_completion_tokens) ?? positive(params.max_tokens);
    case "openai.responses":
      return positive(params.max_output_tokens);
    case "anthropic.messages":
      return positive(params.max_tokens);
    case "google.generateContent": {
      const config = isRecord(params.config) ? params.config : undefined;
      const generation = isRecord(params.generationConfig) ? params.generationConfig : undefined;
      return positive(config?.maxOutputTokens) ?? positive(generation?.maxOutputTokens);
    }
  }
}

/**
 * A copy of `params` with the output cap set in the provider's field, so the worst case Tollgate reserved is the
 * worst case the provider can bill. The caller's object is never changed.
 */
export function withOutputCap(operation: OperationKind, params: unknown, cap: number): unknown {
  if (!isRecord(params)) return params;
  switch (operation) {
    case "openai.chat":
      // `max_completion_tokens` is the current field, and the only one reasoning models accept.
      return { ...params, max_completion_tokens: cap };
    case "openai.responses":
      return { ...params, max_output_tokens: cap };
    case "anthropic.messages":
      return { ...params, max_tokens: cap };
    case "google.generateContent":
      if ("contents" in params && "model" in params) {
        return { ...params, config: { ...(isRecord(params.config) ? params.config : {}), maxOutputTokens: cap } };
      }
      return {
        ...params,
        generationConfig: {
          ...(isRecord(params.generationConfig) ? params.generationConfig : {}),
          maxOutputTokens: cap,
        },
      };
    default:
      return params;
  }
}
