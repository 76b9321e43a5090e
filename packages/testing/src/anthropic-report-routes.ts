import type { IncomingHttpHeaders } from "node:http";
import { anthropicRoutes } from "./anthropic-routes";
import type { FakeOperation } from "./fake-rules";
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
 * Anthropic's Admin API reports, computed from the fake's own request log:
 * `GET /v1/organizations/usage_report/messages` and `GET /v1/organizations/cost_report`. They want an admin key
 * (`x-api-key: sk-ant-admin…`) and an `anthropic-version` header, as the real endpoints do.
 */
export const anthropicReportRoutes: ProviderRoutes = {
  provider: "anthropic",
  match: matchAnthropicReportRoute,
  errorResponse: anthropicRoutes.errorResponse,
  respond: respondAnthropicReport,
};

const messageOperations = new Set<FakeOperation>(["anthropic.messages"]);

function matchAnthropicReportRoute(method: string, pathname: string): RouteMatch | undefined {
  if (method !== "GET") {
    return undefined;
  }
  if (pathname === "/v1/organizations/usage_report/messages") {
    return { operation: "anthropic.usageReport", model: undefined, stream: false };
  }
  if (pathname === "/v1/organizations/cost_report") {
    return { operation: "anthropic.costReport", model: undefined, stream: false };
  }
  return undefined;
}

async function respondAnthropicReport(context: RouteContext): Promise<void> {
  const { exchange } = context;
  const refusal = adminKeyRefusal(context.requestHeaders);
  if (refusal !== undefined) {
    exchange.sendJson(refusal.status, anthropicRoutes.errorResponse(refusal.status, refusal.message).body);
    return;
  }
  try {
    const window = readWindow(context);
    const page =
      context.match.operation === "anthropic.costReport" ? costPage(context, window) : usagePage(context, window);
    exchange.sendJson(200, page);
  } catch (error) {
    if (!(error instanceof ReportQueryError)) {
      throw error;
    }
    exchange.sendJson(400, anthropicRoutes.errorResponse(400, `fake providers: ${error.message}`).body);
  }
}

/** Admin keys only (the key itself is never echoed); the SDKs' bearer form is accepted too. */
function adminKeyRefusal(headers: IncomingHttpHeaders): { status: number; message: string } | undefined {
  const headerKey = headers["x-api-key"];
  const authorization = headers.authorization;
  const key =
    typeof headerKey === "string"
      ? headerKey.trim()
      : typeof authorization === "string" && /^bearer\s/i.test(authorization)
        ? authorization.slice(7).trim()
        : "";
  if (key.length === 0) {
    return { status: 401, message: "fake providers: the Admin API needs an admin key (x-api-key: sk-ant-admin…)" };
  }
  if (!key.startsWith("sk-ant-admin")) {
    return { status: 403, message: "fake providers: the Admin API needs an admin key, not an API key" };
  }
  if (typeof headers["anthropic-version"] !== "string") {
    return { status: 400, message: "fake providers: the anthropic-version header is required" };
  }
  return undefined;
}

interface ReportWindow {
  dayStarts: number[];
  nextDayStart: number | undefined;
  groupBy: string[];
  models: ReadonlySet<string> | undefined;
}

/** `starting_at` (required) and `ending_at` in RFC 3339, `bucket_width`, `limit`, `page`, `group_by[]`, `models[]`. */
function readWindow(context: RouteContext): ReportWindow {
  const { query } = context;
  const startMs = parseTimestamp(query.get("starting_at"), "starting_at");
  if (startMs === undefined) {
    throw new ReportQueryError("starting_at (RFC 3339) is required");
  }
  const endingAt = parseTimestamp(query.get("ending_at"), "ending_at");
  checkBucketWidth(query);
  const limit = limitParameter(query, 7, 31);
  const pageToken = query.get("page");
  const pageStart = pageToken === null ? undefined : parseTimestamp(decodePageToken(pageToken), "page");
  // Buckets that END before `ending_at`; without it, up to the bucket holding now.
  const endMs = endingAt === undefined ? context.now + 1 : endingAt - dayMs + 1;
  const { dayStarts, nextDayStart } = reportPage(startMs, endMs, pageStart, limit);
  const models = listParameter(query, "models");
  return {
    dayStarts,
    nextDayStart,
    groupBy: listParameter(query, "group_by"),
    models: models.length === 0 ? undefined : new Set(models),
  };
}

function parseTimestamp(value: string | null, name: string): number | undefined {
  if (value === null) {
    return undefined;
  }
  const time = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(time)) {
    throw new ReportQueryError(`${name} must be an RFC 3339 timestamp`);
  }
  return time;
}

/** RFC 3339 without milliseconds, as the API writes bucket bounds. */
function rfc3339(timeMs: number): string {
  return new Date(timeMs).toISOString().replace(".000Z", "Z");
}

function pageEnvelope(window: ReportWindow, data: unknown[]): Record<string, unknown> {
  return {
    data,
    has_more: window.nextDayStart !== undefined,
    next_page: window.nextDayStart === undefined ? null : encodePageToken(rfc3339(window.nextDayStart)),
  };
}

function bucketObject(bucket: DayBucket, results: unknown[]): Record<string, unknown> {
  return { starting_at: rfc3339(bucket.startMs), ending_at: rfc3339(bucket.startMs + dayMs), results };
}

// --- usage ------------------------------------------------------------------------------------------------

function usagePage(context: RouteContext, window: ReportWindow): Record<string, unknown> {
  const buckets = dailyUsage(context.log, messageOperations, window.dayStarts, window.models);
  const byModel = window.groupBy.includes("model");
  return pageEnvelope(
    window,
    buckets.map((bucket) => {
      if (byModel) {
        return bucketObject(
          bucket,
          bucket.models.map((entry) => usageResult(entry, entry.model)),
        );
      }
      const total = totalUsage(bucket.models);
      return bucketObject(bucket, total.requests === 0 ? [] : [usageResult({ model: "", ...total }, null)]);
    }),
  );
}

/** The report splits input as the Messages API does: `uncached_input_tokens` excludes the cache reads and writes. */
function usageResult(entry: ModelDayUsage, model: string | null): Record<string, unknown> {
  const usage = entry.usage;
  return {
    uncached_input_tokens:
      usage.inputTokens - usage.cachedInputTokens - usage.cacheWriteInputTokens - usage.cacheWrite1hInputTokens,
    cache_creation: {
      ephemeral_1h_input_tokens: usage.cacheWrite1hInputTokens,
      ephemeral_5m_input_tokens: usage.cacheWriteInputTokens,
    },
    cache_read_input_tokens: usage.cachedInputTokens,
    output_tokens: usage.outputTokens,
    server_tool_use: { web_search_requests: 0 },
    api_key_id: null,
    workspace_id: null,
    model,
    service_tier: null,
    context_window: null,
  };
}

// --- costs ------------------------------------------------------------------------------------------------

const tokenTypes = [
  { tokenType: "uncached_input_tokens", cost: "input", label: "Input Tokens" },
  { tokenType: "cache_read_input_tokens", cost: "cachedInput", label: "Cache Read Input Tokens" },
  { tokenType: "cache_creation.ephemeral_5m_input_tokens", cost: "cacheWrite", label: "Cache Write (5m) Input Tokens" },
  {
    tokenType: "cache_creation.ephemeral_1h_input_tokens",
    cost: "cacheWrite1h",
    label: "Cache Write (1h) Input Tokens",
  },
  { tokenType: "output_tokens", cost: "output", label: "Output Tokens" },
] as const;

/**
 * Grouped by `description`, one result per model and token type with a cost; otherwise one total per bucket.
 * `amount` is in cents, as a decimal string. Models without a price cost nothing.
 */
function costPage(context: RouteContext, window: ReportWindow): Record<string, unknown> {
  const buckets = dailyUsage(context.log, messageOperations, window.dayStarts, undefined);
  const byDescription = window.groupBy.includes("description");
  return pageEnvelope(
    window,
    buckets.map((bucket) => {
      const lines: Array<{ model: string; tokenType: string; label: string; usd: number }> = [];
      for (const entry of bucket.models) {
        const price = context.prices[entry.model];
        if (price === undefined) {
          continue;
        }
        const costs = tokenCosts(entry.usage, price);
        for (const type of tokenTypes) {
          if (costs[type.cost] > 0) {
            lines.push({ model: entry.model, tokenType: type.tokenType, label: type.label, usd: costs[type.cost] });
          }
        }
      }
      if (byDescription) {
        return bucketObject(
          bucket,
          lines.map((line) => ({
            currency: "USD",
            amount: cents(line.usd),
            workspace_id: null,
            description: `${line.model} Usage - ${line.label}`,
            cost_type: "tokens",
            context_window: "0-200k",
            model: line.model,
            service_tier: "standard",
            token_type: line.tokenType,
          })),
        );
      }
      const total = lines.reduce((sum, line) => sum + line.usd, 0);
      return bucketObject(
        bucket,
        lines.length === 0
          ? []
          : [
              {
                currency: "USD",
                amount: cents(total),
                workspace_id: null,
                description: null,
                cost_type: null,
                context_window: null,
                model: null,
                service_tier: null,
                token_type: null,
              },
            ],
      );
    }),
  );
}

/** USD as the report writes it: cents, a decimal string (`"123.45"` is $1.2345). */
function cents(usd: number): string {
  return String(Math.round(usd * 100 * 1e6) / 1e6);
}
