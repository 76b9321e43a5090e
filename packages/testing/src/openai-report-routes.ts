import type { IncomingHttpHeaders } from "node:http";
import type { FakeOperation } from "./fake-rules";
import { openAIRoutes } from "./openai-routes";
import type { ProviderRoutes, RouteContext, RouteMatch } from "./provider-routes";
import {
  checkBucketWidth,
  type DayBucket,
  dailyUsage,
  dayMs,
  decodePageToken,
  encodePageToken,
  limitParameter,
  listParameter,
  type ModelDayUsage,
  ReportQueryError,
  reportPage,
  tokenCosts,
  totalUsage,
} from "./usage-report";

/**
 * OpenAI's organization reports, computed from the fake's own request log: `GET /v1/organization/usage/completions`
 * (chat completions and responses), `GET /v1/organization/usage/embeddings` and `GET /v1/organization/costs`. They
 * want an admin key (`Authorization: Bearer sk-admin-…`), as the real endpoints do.
 */
export const openAIReportRoutes: ProviderRoutes = {
  provider: "openai",
  match: matchOpenAIReportRoute,
  errorResponse: openAIRoutes.errorResponse,
  respond: respondOpenAIReport,
};

const completionsPath = "/v1/organization/usage/completions";
const embeddingsPath = "/v1/organization/usage/embeddings";
const costsPath = "/v1/organization/costs";

const completionOperations = new Set<FakeOperation>(["openai.chat", "openai.responses"]);
const embeddingOperations = new Set<FakeOperation>(["openai.embeddings"]);
const billedOperations = new Set<FakeOperation>([...completionOperations, ...embeddingOperations]);

function matchOpenAIReportRoute(method: string, pathname: string): RouteMatch | undefined {
  if (method !== "GET") {
    return undefined;
  }
  if (pathname === completionsPath || pathname === embeddingsPath) {
    return { operation: "openai.usageReport", model: undefined, stream: false };
  }
  if (pathname === costsPath) {
    return { operation: "openai.costReport", model: undefined, stream: false };
  }
  return undefined;
}

async function respondOpenAIReport(context: RouteContext): Promise<void> {
  const { exchange } = context;
  const refusal = adminKeyRefusal(context.requestHeaders);
  if (refusal !== undefined) {
    exchange.sendJson(refusal.status, openAIRoutes.errorResponse(refusal.status, refusal.message).body);
    return;
  }
  try {
    const isCosts = context.match.operation === "openai.costReport";
    const window = readWindow(context, isCosts ? 180 : 31);
    const page = isCosts ? costsPage(context, window) : usagePage(context, window);
    exchange.sendJson(200, page);
  } catch (error) {
    if (!(error instanceof ReportQueryError)) {
      throw error;
    }
    exchange.sendJson(400, openAIRoutes.errorResponse(400, `fake providers: ${error.message}`).body);
  }
}

/** The real endpoints refuse project and user keys; so does the fake (the key itself is never echoed). */
function adminKeyRefusal(headers: IncomingHttpHeaders): { status: number; message: string } | undefined {
  const authorization = headers.authorization;
  const key =
    typeof authorization === "string" && /^bearer\s/i.test(authorization) ? authorization.slice(7).trim() : "";
  if (key.length === 0) {
    return { status: 401, message: "fake providers: the organization reports need an admin key (Bearer sk-admin-…)" };
  }
  if (!key.startsWith("sk-admin-")) {
    return { status: 403, message: "fake providers: the organization reports need an admin key, not a project key" };
  }
  return undefined;
}

interface ReportWindow {
  dayStarts: number[];
  nextDayStart: number | undefined;
  groupBy: string[];
  models: ReadonlySet<string> | undefined;
}

/** `start_time` (required) and `end_time` in unix seconds, `bucket_width`, `limit`, `page`, `group_by`, `models`. */
function readWindow(context: RouteContext, maxLimit: number): ReportWindow {
  const { query } = context;
  const startSeconds = Number(query.get("start_time") ?? Number.NaN);
  if (!Number.isInteger(startSeconds)) {
    throw new ReportQueryError("start_time (unix seconds) is required");
  }
  const endParameter = query.get("end_time");
  const endSeconds = endParameter === null ? undefined : Number(endParameter);
  if (endSeconds !== undefined && !Number.isInteger(endSeconds)) {
    throw new ReportQueryError("end_time must be unix seconds");
  }
  checkBucketWidth(query);
  const limit = limitParameter(query, 7, maxLimit);
  const pageToken = query.get("page");
  const pageStart = pageToken === null ? undefined : Number(decodePageToken(pageToken)) * 1000;
  const endMs = endSeconds === undefined ? context.now + 1 : endSeconds * 1000;
  const { dayStarts, nextDayStart } = reportPage(startSeconds * 1000, endMs, pageStart, limit);
  const models = listParameter(query, "models");
  return {
    dayStarts,
    nextDayStart,
    groupBy: listParameter(query, "group_by"),
    models: models.length === 0 ? undefined : new Set(models),
  };
}

function pageEnvelope(window: ReportWindow, data: unknown[]): Record<string, unknown> {
  return {
    object: "page",
    data,
    has_more: window.nextDayStart !== undefined,
    next_page: window.nextDayStart === undefined ? null : encodePageToken(String(window.nextDayStart / 1000)),
  };
}

function bucketObject(bucket: DayBucket, results: unknown[]): Record<string, unknown> {
  return {
    object: "bucket",
    start_time: bucket.startMs / 1000,
    end_time: (bucket.startMs + dayMs) / 1000,
    results,
  };
}

// --- usage ------------------------------------------------------------------------------------------------

function usagePage(context: RouteContext, window: ReportWindow): Record<string, unknown> {
  const embeddings = context.exchange.record.path === embeddingsPath;
  const buckets = dailyUsage(
    context.log,
    embeddings ? embeddingOperations : completionOperations,
    window.dayStarts,
    window.models,
  );
  const byModel = window.groupBy.includes("model");
  const resultOf = embeddings ? embeddingsResult : completionsResult;
  return pageEnvelope(
    window,
    buckets.map((bucket) => {
      if (byModel) {
        return bucketObject(
          bucket,
          bucket.models.map((entry) => resultOf(entry, entry.model)),
        );
      }
      const total = totalUsage(bucket.models);
      return bucketObject(bucket, total.requests === 0 ? [] : [resultOf({ model: "", ...total }, null)]);
    }),
  );
}

const unGrouped = { project_id: null, user_id: null, api_key_id: null };

/** `input_tokens` includes the cached and cache-write tokens, as the SDK's `OrganizationUsageCompletionsResult` says. */
function completionsResult(entry: ModelDayUsage, model: string | null): Record<string, unknown> {
  const cacheWrites = entry.usage.cacheWriteInputTokens + entry.usage.cacheWrite1hInputTokens;
  return {
    object: "organization.usage.completions.result",
    input_tokens: entry.usage.inputTokens,
    output_tokens: entry.usage.outputTokens,
    input_cached_tokens: entry.usage.cachedInputTokens,
    input_cache_write_tokens: cacheWrites,
    input_uncached_tokens: entry.usage.inputTokens - entry.usage.cachedInputTokens - cacheWrites,
    input_audio_tokens: 0,
    output_audio_tokens: 0,
    num_model_requests: entry.requests,
    ...unGrouped,
    model,
    batch: null,
    service_tier: null,
  };
}

function embeddingsResult(entry: ModelDayUsage, model: string | null): Record<string, unknown> {
  return {
    object: "organization.usage.embeddings.result",
    input_tokens: entry.usage.inputTokens,
    num_model_requests: entry.requests,
    ...unGrouped,
    model,
  };
}

// --- costs ------------------------------------------------------------------------------------------------

/**
 * Line items are `"<model>, input"`, `"<model>, cached input"` and `"<model>, output"` (the real names are not
 * documented; this is the form seen in public examples), with the tokens as `quantity`. Cache writes are billed on
 * the input line at their own rate. Models without a price cost nothing.
 */
function costsPage(context: RouteContext, window: ReportWindow): Record<string, unknown> {
  const buckets = dailyUsage(context.log, billedOperations, window.dayStarts, window.models);
  const byLineItem = window.groupBy.includes("line_item");
  return pageEnvelope(
    window,
    buckets.map((bucket) => {
      const lines: Array<{ lineItem: string; usd: number; quantity: number }> = [];
      for (const entry of bucket.models) {
        const price = context.prices[entry.model];
        if (price === undefined) {
          continue;
        }
        const costs = tokenCosts(entry.usage, price);
        const usage = entry.usage;
        lines.push({
          lineItem: `${entry.model}, input`,
          usd: costs.input + costs.cacheWrite + costs.cacheWrite1h,
          quantity: usage.inputTokens - usage.cachedInputTokens,
        });
        if (usage.cachedInputTokens > 0) {
          lines.push({
            lineItem: `${entry.model}, cached input`,
            usd: costs.cachedInput,
            quantity: usage.cachedInputTokens,
          });
        }
        if (usage.outputTokens > 0) {
          lines.push({ lineItem: `${entry.model}, output`, usd: costs.output, quantity: usage.outputTokens });
        }
      }
      if (byLineItem) {
        return bucketObject(
          bucket,
          lines.map((line) => costResult(line.usd, line.lineItem, line.quantity)),
        );
      }
      const total = lines.reduce((sum, line) => sum + line.usd, 0);
      return bucketObject(bucket, lines.length === 0 ? [] : [costResult(total, null, null)]);
    }),
  );
}

function costResult(usd: number, lineItem: string | null, quantity: number | null): Record<string, unknown> {
  return {
    object: "organization.costs.result",
    amount: { value: usd, currency: "usd" },
    line_item: lineItem,
    project_id: null,
    api_key_id: null,
    quantity,
  };
}
