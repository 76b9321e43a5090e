import { ReconcileError } from "../errors/reconcile-error";
import { asArray, asRecord, parseJson } from "../usage/json-fields";

/** What a provider's report says about one model on one UTC day, in Tollgate's words. */
export interface ProviderDayUsage {
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  /** The model as the provider names it (often a dated snapshot of the name the caller used). */
  model: string;
  /** Requests, when the report counts them (OpenAI's does, Anthropic's does not). */
  requests?: number;
  /** All input tokens, cached and cache-write ones included. */
  inputTokens: number;
  /** All output tokens, reasoning tokens included. */
  outputTokens: number;
  /** USD billed, when the cost report was read (0 for a model it does not list); absent when it was not. */
  costUsd?: number;
}

/** A provider's reports for a range of days. */
export interface ProviderReport {
  days: ProviderDayUsage[];
  /** The cost report was read: `costUsd` is set on every day (0 for a model it does not list). */
  costsRead: boolean;
}

/** The whole UTC days to read, `[startMs, endMs)` with both at midnight, and the `fetch` to read them with. */
export interface ReportWindow {
  startMs: number;
  endMs: number;
  fetch: typeof fetch;
}

/** One paginated report request: the first page's URL, its headers, and what to keep out of every message. */
export interface ReportRequest {
  provider: "openai" | "anthropic";
  url: URL;
  headers: Record<string, string>;
  adminKey: string;
  fetch: typeof fetch;
}

/** More pages than any real report over the retained ledger needs: a cursor that never ends is a bug, not data. */
const maxPages = 100;
const requestTimeoutMs = 30_000;

/**
 * Reads every page of a report (`has_more` / `next_page`, passed back as `page`) and returns all `data` buckets.
 * Throws `ReconcileError` for a failed request, a non-2xx answer, or a body without a `data` array (which must never
 * read as zero spend).
 */
export async function readReportPages(request: ReportRequest): Promise<unknown[]> {
  const endpoint = request.url.pathname;
  const buckets: unknown[] = [];
  let page: string | undefined;
  for (let count = 0; count < maxPages; count++) {
    const url = new URL(request.url);
    if (page !== undefined) url.searchParams.set("page", page);
    const body = await getJson(request, url);
    if (!Array.isArray(body.data)) {
      throw new ReconcileError(request.provider, endpoint, 200, "the answer has no `data` array");
    }
    buckets.push(...body.data);
    const next = body.next_page;
    if (body.has_more !== true || typeof next !== "string" || next.length === 0 || next === page) return buckets;
    page = next;
  }
  throw new ReconcileError(request.provider, endpoint, 200, `more than ${maxPages} pages`);
}

async function getJson(request: ReportRequest, url: URL): Promise<Record<string, unknown>> {
  const endpoint = url.pathname;
  let response: Response;
  let text: string;
  try {
    response = await request.fetch(url, {
      method: "GET",
      headers: request.headers,
      signal: AbortSignal.timeout(requestTimeoutMs),
    });
    text = await response.text();
  } catch (cause) {
    const message = scrubSecrets(cause instanceof Error ? cause.message : String(cause), request.adminKey);
    throw new ReconcileError(request.provider, endpoint, undefined, `the request failed (${message})`, {
      cause: safeCause(cause, request.adminKey),
    });
  }
  const body = asRecord(parseJson(text));
  if (!response.ok) {
    const detail = providerErrorMessage(body) ?? `HTTP ${response.status}`;
    const hint = response.status === 401 || response.status === 403 ? " (is it an admin key?)" : "";
    throw new ReconcileError(
      request.provider,
      endpoint,
      response.status,
      `${response.status} ${scrubSecrets(detail, request.adminKey)}${hint}`,
    );
  }
  if (body === undefined) {
    throw new ReconcileError(request.provider, endpoint, response.status, "the answer is not a JSON object");
  }
  return body;
}

/** `error.message` of both providers' error bodies (`{error: {message}}`). */
function providerErrorMessage(body: Record<string, unknown> | undefined): string | undefined {
  const message = asRecord(body?.error)?.message;
  return typeof message === "string" ? message.slice(0, 300) : undefined;
}

const keyLike = /\b(?:sk|rk)[-_][A-Za-z0-9_*-]{6,}/g;

/** Removes the admin key, and anything shaped like a key (providers echo masked keys), from a message. */
export function scrubSecrets(text: string, adminKey: string): string {
  const withoutKey = adminKey.length > 0 ? text.split(adminKey).join("[redacted]") : text;
  return withoutKey.replace(keyLike, "[redacted]");
}

/** The original error as `cause`, unless its text carries the key (an injected `fetch` may put it anywhere). */
function safeCause(cause: unknown, adminKey: string): unknown {
  const text = cause instanceof Error ? `${cause.message}\n${cause.stack ?? ""}` : String(cause);
  if (adminKey.length === 0 || !text.includes(adminKey)) return cause;
  return new Error(scrubSecrets(cause instanceof Error ? cause.message : String(cause), adminKey));
}

/** A report's list of results in one bucket. */
export function bucketResults(bucket: unknown): readonly Record<string, unknown>[] {
  return asArray(asRecord(bucket)?.results).flatMap((result) => {
    const record = asRecord(result);
    return record === undefined ? [] : [record];
  });
}

/** A count field of a report: a finite non-negative number, 0 when absent (reports leave zero fields out). */
export function countField(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : 0;
}

/** `YYYY-MM-DD` (UTC) of an epoch-ms time. */
export function utcDay(timeMs: number): string {
  return new Date(timeMs).toISOString().slice(0, 10);
}

/** Adds `name[]=value` for each value, the array form the providers' own SDKs send. */
export function appendList(url: URL, name: string, values: readonly string[] | undefined): void {
  for (const value of values ?? []) url.searchParams.append(`${name}[]`, value);
}

/** Sums rows that share a day and model (several results per bucket, or several report endpoints). */
export function mergeDayUsage(rows: readonly ProviderDayUsage[]): ProviderDayUsage[] {
  const merged = new Map<string, ProviderDayUsage>();
  for (const row of rows) {
    const key = `${row.day}|${row.model}`;
    const existing = merged.get(key);
    if (existing === undefined) {
      merged.set(key, { ...row });
      continue;
    }
    existing.inputTokens += row.inputTokens;
    existing.outputTokens += row.outputTokens;
    if (row.requests !== undefined) existing.requests = (existing.requests ?? 0) + row.requests;
    if (row.costUsd !== undefined) existing.costUsd = (existing.costUsd ?? 0) + row.costUsd;
  }
  return [...merged.values()];
}
