import { asRecord } from "../usage/json-fields";
import {
  appendList,
  bucketResults,
  countField,
  mergeDayUsage,
  type ProviderDayUsage,
  type ProviderReport,
  type ReportWindow,
  readReportPages,
  utcDay,
} from "./report-pages";

// The one place the vocabulary of Anthropic's Admin API usage and cost reports is translated. Field names follow
// Anthropic's API reference for `GET /v1/organizations/usage_report/messages` and `GET /v1/organizations/cost_report`
// (the SDK has no client for them).

/** Where and how to read Anthropic's organization usage and cost reports. */
export interface AnthropicReconcileOptions {
  /** An Admin API key (`sk-ant-admin…`). Ordinary API keys cannot read these reports. Never logged or reported. */
  adminKey: string;
  /** The API root, as for the SDK's `baseURL`. Default `https://api.anthropic.com`. */
  baseURL?: string;
  /**
   * Only usage of these API key ids (`apikey_…`). The cost report cannot be filtered by key, so costs are then not
   * read (`usd` stays unknown) and only tokens are compared.
   */
  apiKeyIds?: readonly string[];
}

const defaultBaseURL = "https://api.anthropic.com";
const anthropicVersion = "2023-06-01";

/**
 * Reads the Messages usage report (grouped by model) and, unless filtered by key, the cost report (grouped by
 * description, which names the model) for whole UTC days. Input is reassembled as Tollgate counts it:
 * `uncached_input_tokens + cache_read_input_tokens + cache_creation.ephemeral_5m_input_tokens +
 * cache_creation.ephemeral_1h_input_tokens`. The usage report has no request count.
 */
export async function readAnthropicUsage(
  options: AnthropicReconcileOptions,
  window: ReportWindow,
): Promise<ProviderReport> {
  const base = (options.baseURL ?? defaultBaseURL).replace(/\/+$/, "");
  const request = (path: string, groupBy: string, apiKeyIds: readonly string[] | undefined) => {
    const url = new URL(`${base}${path}`);
    url.searchParams.set("starting_at", rfc3339(window.startMs));
    url.searchParams.set("ending_at", rfc3339(window.endMs));
    url.searchParams.set("bucket_width", "1d");
    url.searchParams.append("group_by[]", groupBy);
    url.searchParams.set("limit", "31");
    appendList(url, "api_key_ids", apiKeyIds);
    return readReportPages({
      provider: "anthropic",
      url,
      headers: { "x-api-key": options.adminKey, "anthropic-version": anthropicVersion, accept: "application/json" },
      adminKey: options.adminKey,
      fetch: window.fetch,
    });
  };
  const readCosts = options.apiKeyIds === undefined || options.apiKeyIds.length === 0;
  const [usage, costs] = await Promise.all([
    request("/v1/organizations/usage_report/messages", "model", options.apiKeyIds),
    readCosts ? request("/v1/organizations/cost_report", "description", undefined) : Promise.resolve(undefined),
  ]);
  const rows = mergeDayUsage([...usageRows(usage), ...(costs === undefined ? [] : costRows(costs))]);
  // When the cost report was read, a model it does not list cost nothing.
  if (costs === undefined) return { days: rows, costsRead: false };
  return { days: rows.map((row) => ({ ...row, costUsd: row.costUsd ?? 0 })), costsRead: true };
}

function rfc3339(timeMs: number): string {
  return new Date(timeMs).toISOString().replace(".000Z", "Z");
}

function bucketDay(bucket: unknown): string | undefined {
  const start = asRecord(bucket)?.starting_at;
  const time = typeof start === "string" ? Date.parse(start) : Number.NaN;
  return Number.isNaN(time) ? undefined : utcDay(time);
}

function usageRows(buckets: readonly unknown[]): ProviderDayUsage[] {
  return buckets.flatMap((bucket) => {
    const day = bucketDay(bucket);
    if (day === undefined) return [];
    return bucketResults(bucket).map((result) => {
      const cacheCreation = asRecord(result.cache_creation);
      return {
        day,
        model: typeof result.model === "string" ? result.model : "unknown",
        inputTokens:
          countField(result.uncached_input_tokens) +
          countField(result.cache_read_input_tokens) +
          countField(cacheCreation?.ephemeral_5m_input_tokens) +
          countField(cacheCreation?.ephemeral_1h_input_tokens),
        outputTokens: countField(result.output_tokens),
      };
    });
  });
}

/**
 * `amount` is a decimal string in the currency's lowest unit, cents for `"USD"` (`"123.45"` is $1.2345). Non-token
 * costs (web search, code execution) have no `model` and are kept under their description.
 */
function costRows(buckets: readonly unknown[]): ProviderDayUsage[] {
  return buckets.flatMap((bucket) => {
    const day = bucketDay(bucket);
    if (day === undefined) return [];
    return bucketResults(bucket).flatMap((result) => {
      const cents =
        typeof result.amount === "string" || typeof result.amount === "number" ? Number(result.amount) : Number.NaN;
      if (!Number.isFinite(cents)) return [];
      const model =
        typeof result.model === "string"
          ? result.model
          : typeof result.description === "string"
            ? result.description
            : "unattributed";
      return [{ day, model, inputTokens: 0, outputTokens: 0, costUsd: cents / 100 }];
    });
  });
}
