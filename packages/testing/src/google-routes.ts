import { fakeEmbedding } from "./fake-embedding";
import type { FakeUsage } from "./fake-usage";
import { replyWords, visibleOutputTokens } from "./fake-usage";
import { isRecord } from "./is-record";
import type { ProviderRoutes, RouteContext, RouteMatch } from "./provider-routes";
import { SseWriter } from "./sse";

/**
 * The Gemini Developer API as both Google SDKs call it: `/{v1beta|v1|v1alpha}/models/{model}:{action}`.
 * `@google/genai` sends `models.embedContent` to `:batchEmbedContents`; the old SDK uses `:embedContent`.
 */
export const googleRoutes: ProviderRoutes = {
  provider: "google",
  match: matchGoogleRoute,
  errorResponse: (status, message) => ({
    body: { error: { code: status, message, status: googleErrorStatus(status) } },
  }),
  respond: respondGoogle,
};

const modelActionPath = /^\/(?:v1beta|v1|v1alpha)\/models\/([^/:]+):([A-Za-z]+)$/;

function matchGoogleRoute(method: string, pathname: string): RouteMatch | undefined {
  const found = method === "POST" ? modelActionPath.exec(pathname) : null;
  if (found === null) {
    return undefined;
  }
  const model = decodeURIComponent(found[1] ?? "");
  switch (found[2]) {
    case "generateContent":
      return { operation: "google.generateContent", model, stream: false };
    case "streamGenerateContent":
      return { operation: "google.streamGenerateContent", model, stream: true };
    case "embedContent":
    case "batchEmbedContents":
      return { operation: "google.embedContent", model, stream: false };
    case "countTokens":
      return { operation: "google.countTokens", model, stream: false };
    default:
      return undefined;
  }
}

/** Google's canonical error `status` for an HTTP status. */
function googleErrorStatus(status: number): string {
  switch (status) {
    case 400:
      return "INVALID_ARGUMENT";
    case 401:
      return "UNAUTHENTICATED";
    case 403:
      return "PERMISSION_DENIED";
    case 404:
      return "NOT_FOUND";
    case 409:
      return "ABORTED";
    case 429:
      return "RESOURCE_EXHAUSTED";
    case 499:
      return "CANCELLED";
    case 500:
      return "INTERNAL";
    case 503:
      return "UNAVAILABLE";
    case 504:
      return "DEADLINE_EXCEEDED";
    default:
      return status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
  }
}

async function respondGoogle(context: RouteContext): Promise<void> {
  switch (context.match.operation) {
    case "google.generateContent":
      return sendGenerateContent(context);
    case "google.streamGenerateContent":
      return streamGenerateContent(context);
    case "google.embedContent":
      return sendEmbedding(context);
    case "google.countTokens":
      context.exchange.sendJson(200, { totalTokens: context.usage.inputTokens });
      return;
    default:
      throw new Error(`google routes cannot answer ${context.match.operation}`);
  }
}

// --- usage vocabulary -------------------------------------------------------------------------------------

/**
 * Gemini's `usageMetadata` after `visibleTokens` reply tokens: `promptTokenCount` includes the cached part,
 * `candidatesTokenCount` excludes thoughts. Zero optional counts are left out, as the API does.
 */
function usageMetadataWire(usage: Required<FakeUsage>, visibleTokens: number): Record<string, unknown> {
  return {
    promptTokenCount: usage.inputTokens,
    candidatesTokenCount: visibleTokens,
    totalTokenCount: usage.inputTokens + usage.reasoningTokens + visibleTokens,
    ...(usage.cachedInputTokens > 0 ? { cachedContentTokenCount: usage.cachedInputTokens } : {}),
    ...(usage.reasoningTokens > 0 ? { thoughtsTokenCount: usage.reasoningTokens } : {}),
  };
}

/** Gemini has no cache-write counts: such tokens stay inside `promptTokenCount`, so a parser sees them as input. */
function reportedUsage(usage: Required<FakeUsage>): Required<FakeUsage> {
  return { ...usage, cacheWriteInputTokens: 0, cacheWrite1hInputTokens: 0 };
}

// --- generate ---------------------------------------------------------------------------------------------

function candidateResponse(context: RouteContext, text: string, finished: boolean, usageMetadata: unknown) {
  return {
    candidates: [
      {
        content: { parts: [{ text }], role: "model" },
        ...(finished ? { finishReason: "STOP" } : {}),
        index: 0,
      },
    ],
    ...(usageMetadata === undefined ? {} : { usageMetadata }),
    modelVersion: context.match.model ?? "unknown",
    responseId: `fake-${context.exchange.record.id}`,
  };
}

async function sendGenerateContent(context: RouteContext): Promise<void> {
  const { usage, exchange } = context;
  const omitUsage = exchange.fault.omitUsage === true;
  const visible = visibleOutputTokens(usage);
  const response = candidateResponse(
    context,
    replyWords(visible).join(""),
    true,
    omitUsage ? undefined : usageMetadataWire(usage, visible),
  );
  exchange.sendJson(200, response, omitUsage ? undefined : reportedUsage(usage));
}

/**
 * One `data:` line of single-line JSON per visible output token, each ended by `\r\n\r\n` and carrying the
 * running usage total; the last one has `finishReason: "STOP"` and the final usage. At least one chunk is sent.
 */
async function streamGenerateContent(context: RouteContext): Promise<void> {
  const { usage, exchange } = context;
  const omitUsage = exchange.fault.omitUsage === true;
  const words = replyWords(visibleOutputTokens(usage));
  const chunkTexts = words.length > 0 ? words : [""];
  const sse = new SseWriter(exchange, { lineEnding: "\r\n" });
  if (!(await sse.start())) {
    return;
  }
  for (const [index, text] of chunkTexts.entries()) {
    const last = index === chunkTexts.length - 1;
    const visibleSoFar = Math.min(index + 1, words.length);
    const usageMetadata = omitUsage ? undefined : usageMetadataWire(usage, visibleSoFar);
    const reported = last && !omitUsage ? reportedUsage(usage) : undefined;
    if (!(await sse.send({ data: candidateResponse(context, text, last, usageMetadata) }, reported))) {
      return;
    }
  }
  sse.end();
}

// --- embeddings -------------------------------------------------------------------------------------------

/**
 * `:embedContent` → `{embedding: {values}}`; `:batchEmbedContents` → `{embeddings: [{values}]}`, one per request.
 * The Gemini API reports no usage for embeddings, so none is recorded either.
 */
async function sendEmbedding(context: RouteContext): Promise<void> {
  const body = isRecord(context.body) ? context.body : {};
  const embed = (request: unknown) => {
    const fields = isRecord(request) ? request : {};
    return { values: fakeEmbedding(JSON.stringify(fields.content ?? null), fields.outputDimensionality) };
  };
  if (Array.isArray(body.requests)) {
    context.exchange.sendJson(200, { embeddings: body.requests.map(embed) });
    return;
  }
  context.exchange.sendJson(200, { embedding: embed(body) });
}
