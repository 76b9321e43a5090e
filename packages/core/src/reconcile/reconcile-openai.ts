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

// The one place the vocabulary of OpenAI's organization reports is translated. Field names follow the `openai`
// SDK's `admin.organization.usage` types (`OrganizationUsageCompletionsResult`, `OrganizationUsageEmbeddingsResult`,
// `OrganizationCostsResult`).

/** Where and how to read OpenAI's organization usage and costs. */
export interface OpenAIReconcileOptions {
  /** An organization admin key (`sk-admin-…`). Project keys cannot read these reports. Never logged or reported. */
  adminKey: string;
  /** The API root, `/v1` included, as for the SDK's `baseURL`. Default `https://api.openai.com/v1`. */
  baseURL?: string;
  /** Only usage and costs of these API key ids (`key_…`), when the organization has keys used elsewhere. */
  apiKeyIds?: readonly string[];
  /** Only usage and costs of these projects (`proj_…`). */
  projectIds?: readonly string[];
}

const defaultBaseURL = "https://api.openai.com/v1";

/**
 * Reads `GET /organization/usage/completions` (chat completions and responses), `GET /organization/usage/embeddings`
 * and `GET /organization/costs` (grouped by `line_item`, whose `"<model>, <kind>"` names give the model) for whole
 * UTC days, and returns usage and cost per day and model. `input_tokens` already includes cached and cache-write
 * tokens, like Tollgate's `inputTokens`.
 */
export async function readOpenAIUsage(options: OpenAIReconcileOptions, window: ReportWindow): Promise<ProviderReport> {
  const base = (options.baseURL ?? defaultBaseURL).replace(/\/+$/, "");
  const request = (path: string, groupBy: string, limit: number) => {
    const url = new URL(`${base}${path}`);
    url.searchParams.set("start_time", String(Math.floor(window.startMs / 1000)));
    url.searchParams.set("end_time", String(Math.floor(window.endMs / 1000)));
    url.searchParams.set("bucket_width", "1d");
    url.searchParams.append("group_by[]", groupBy);
    url.searchParams.set("limit", String(limit));
    appendList(url, "api_key_ids", options.apiKeyIds);
    appendList(url, "project_ids", options.projectIds);
    return readReportPages({
      provider: "openai",
      url,
      headers: { authorization: `Bearer ${options.adminKey}`, accept: "application/json" },
      adminKey: options.adminKey,
      fetch: window.fetch,
    });
  };
  const [completions, embeddings, costs] = await Promise.all([
    request("/organization/usage/completions", "model", 31),
    request("/organization/usage/embeddings", "model", 31),
    request("/organization/costs", "line_item", 180),
  ]);
  const rows = mergeDayUsage([...usageRows(completions, true), ...usageRows(embeddings, false), ...costRows(costs)]);
  // The cost report was read: a model it does not list cost nothing.
  return { days: rows.map((row) => ({ ...row, costUsd: row.costUsd ?? 0 })), costsRead: true };
}

function bucketDay(bucket: unknown): string | undefined {
  const start = asRecord(bucket)?.start_time;
  return typeof start === "number" && Number.isFinite(start) ? utcDay(start * 1000) : undefined;
}

function usageRows(buckets: readonly unknown[], hasOutput: boolean): ProviderDayUsage[] {
  return buckets.flatMap((bucket) => {
    const day = bucketDay(bucket);
    if (day === undefined) return [];
    return bucketResults(bucket).map((result) => ({
      day,
      model: typeof result.model === "string" ? result.model : "unknown",
      requests: countField(result.num_model_requests),
      inputTokens: countField(result.input_tokens),
      outputTokens: hasOutput ? countField(result.output_tokens) : 0,
    }));
  });
}

/**
 * Cost line items name the model before a comma (`"gpt-4o-mini-2024-07-18, input"`); OpenAI does not document the
 * format, so an item without a comma is taken whole (`"gpt-4o"`, or a non-token item such as a tool's calls).
 */
function costRows(buckets: readonly unknown[]): ProviderDayUsage[] {
  return buckets.flatMap((bucket) => {
    const day = bucketDay(bucket);
    if (day === undefined) return [];
    return bucketResults(bucket).flatMap((result) => {
      const usd = amountUsd(asRecord(result.amount)?.value);
      if (usd === undefined) return [];
      const lineItem = typeof result.line_item === "string" ? result.line_item : "unattributed";
      const comma = lineItem.lastIndexOf(", ");
      const model = comma > 0 ? lineItem.slice(0, comma) : lineItem;
      return [{ day, model, inputTokens: 0, outputTokens: 0, costUsd: usd }];
    });
  });
}

/** `amount.value`: a number in the SDK's types; a numeric string is accepted too. */
function amountUsd(value: unknown): number | undefined {
  const usd = typeof value === "string" ? Number(value) : value;
  return typeof usd === "number" && Number.isFinite(usd) ? usd : undefined;
}
