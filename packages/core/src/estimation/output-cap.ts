import { asRecord, isRecord } from "../usage/json-fields";
import type { OperationKind } from "../usage/operation";

/**
 * The most output tokens a request can be billed for, from the provider's own cap field; `undefined` when the
 * request sets none. Embeddings produce no output: 0.
 *
 * - OpenAI chat: `max_completion_tokens` ?? `max_tokens`, times `n` (each choice may use the whole cap).
 * - OpenAI responses: `max_output_tokens` (reasoning included).
 * - Anthropic: `max_tokens` (thinking included).
 * - `@google/genai`: `config.maxOutputTokens`, times `config.candidateCount`.
 * - `@google/generative-ai` and REST: `generationConfig.maxOutputTokens`, times `candidateCount`. The old SDK also
 *   takes a `generationConfig` on the model (`getGenerativeModel({ model, generationConfig })`) and sends it only
 *   when the request has none of its own (the request's replaces it whole); pass it as `modelGenerationConfig`.
 */
export function readOutputCap(
  operation: OperationKind,
  params: unknown,
  modelGenerationConfig?: unknown,
): number | undefined {
  if (operation === "openai.embeddings" || operation === "google.embedContent") return 0;
  const request = asRecord(params);
  switch (operation) {
    case "openai.chat":
      if (!request) return undefined;
      return times(count(request.max_completion_tokens) ?? count(request.max_tokens), request.n);
    case "openai.responses":
      return request ? count(request.max_output_tokens) : undefined;
    case "anthropic.messages":
      return request ? count(request.max_tokens) : undefined;
    case "google.generateContent": {
      const config = isGenAIRequest(request)
        ? asRecord(request?.config)
        : generationConfigOf(request, modelGenerationConfig);
      return times(count(config?.maxOutputTokens), config?.candidateCount);
    }
  }
}

/**
 * A shallow copy of `params` with `cap` set in the provider's output-cap field (nested config objects copied too),
 * for calls that set no cap when the user configured a default: the worst case Tollgate reserves is then the worst
 * case the provider can bill. The caller's objects are never modified. Embeddings are returned unchanged.
 *
 * OpenAI chat gets `max_completion_tokens` (the current field, the only one reasoning models accept), and a
 * `max_tokens` the request already had is removed so the two cannot disagree. For the old Google SDK the cap is
 * merged into the request's `generationConfig`, or else into `modelGenerationConfig`, because a request-level
 * `generationConfig` replaces the model's whole; a bare string or `(string | Part)[]` request becomes
 * `{ contents: [Content] }` as the SDK itself would build it.
 */
export function withOutputCap(
  operation: OperationKind,
  params: unknown,
  cap: number,
  modelGenerationConfig?: unknown,
): unknown {
  const request = asRecord(params);
  switch (operation) {
    case "openai.chat": {
      if (!request) return params;
      const { max_tokens: _replaced, ...rest } = request;
      return { ...rest, max_completion_tokens: cap };
    }
    case "openai.responses":
      return request ? { ...request, max_output_tokens: cap } : params;
    case "anthropic.messages":
      return request ? { ...request, max_tokens: cap } : params;
    case "google.generateContent":
      if (isGenAIRequest(request)) {
        return { ...request, config: { ...asRecord(request?.config), maxOutputTokens: cap } };
      }
      return {
        ...legacyRequest(params),
        generationConfig: { ...generationConfigOf(request, modelGenerationConfig), maxOutputTokens: cap },
      };
    default:
      return params;
  }
}

/** `@google/genai` requests carry `model` (and `config`); the old SDK's and REST bodies carry neither. */
function isGenAIRequest(request: Record<string, unknown> | undefined): boolean {
  return request !== undefined && (typeof request.model === "string" || isRecord(request.config));
}

function generationConfigOf(
  request: Record<string, unknown> | undefined,
  modelGenerationConfig: unknown,
): Record<string, unknown> | undefined {
  if (request && request.generationConfig !== undefined && request.generationConfig !== null) {
    return asRecord(request.generationConfig);
  }
  return asRecord(modelGenerationConfig);
}

/** An old-SDK request as an object with Content[] contents (what `formatGenerateContentInput` produces). */
function legacyRequest(params: unknown): Record<string, unknown> {
  const request = asRecord(params);
  if (!request) return { contents: newContents(params) };
  if (typeof request.contents === "string" || isPartList(request.contents)) {
    return { ...request, contents: newContents(request.contents) };
  }
  return { ...request };
}

function isPartList(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === "string" || !hasParts(item));
}

function hasParts(value: unknown): boolean {
  return isRecord(value) && Array.isArray(value.parts);
}

/** The old SDK's `formatNewContent`: function responses go in a `function` turn, everything else in `user`. */
function newContents(value: unknown): unknown[] {
  const items = typeof value === "string" ? [value] : Array.isArray(value) ? value : [];
  const parts = items.map((item) => (typeof item === "string" ? { text: item } : item));
  const functionParts = parts.filter((part) => isRecord(part) && "functionResponse" in part);
  const userParts = parts.filter((part) => !(isRecord(part) && "functionResponse" in part));
  const contents: unknown[] = [];
  if (userParts.length > 0) contents.push({ role: "user", parts: userParts });
  if (functionParts.length > 0) contents.push({ role: "function", parts: functionParts });
  return contents;
}

function count(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? Math.ceil(value) : undefined;
}

/** `cap × choices` when the request asks for several choices/candidates. */
function times(cap: number | undefined, choices: unknown): number | undefined {
  if (cap === undefined) return undefined;
  const multiplier = typeof choices === "number" && Number.isFinite(choices) && choices > 1 ? Math.ceil(choices) : 1;
  return cap * multiplier;
}
