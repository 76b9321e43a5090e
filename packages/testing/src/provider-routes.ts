import type { IncomingHttpHeaders } from "node:http";
import type { FakeExchange } from "./fake-exchange";
import type { FakeOperation, FakeProviderName } from "./fake-rules";
import type { FakeUsage } from "./fake-usage";
import type { RecordedRequest } from "./recorded-request";
import type { FakePrice } from "./usage-report";

/** What a provider's router recognised in a request. */
export interface RouteMatch {
  operation: FakeOperation;
  model: string | undefined;
  stream: boolean;
}

/** Everything a provider needs to answer one request that is not an injected error. */
export interface RouteContext {
  exchange: FakeExchange;
  match: RouteMatch;
  body: unknown;
  query: URLSearchParams;
  /** Usage to report, after per-model overrides, rules and the header override. */
  usage: Required<FakeUsage>;
  /** Model ids for listings. */
  modelIds: readonly string[];
  /** The request's own headers, unredacted: the report routes check the admin key's kind (never log it). */
  requestHeaders: IncomingHttpHeaders;
  /** The whole request log, which the usage and cost reports are computed from. */
  log: readonly RecordedRequest[];
  /** Prices for the cost reports, USD per 1M tokens by model id. */
  prices: Readonly<Record<string, FakePrice>>;
  /** The fake's clock (epoch ms): the end of a report that names none. */
  now: number;
}

/**
 * One provider's slice of the fake: which paths it owns, its error body, and its wire formats. Each provider's
 * vocabulary (`prompt_tokens`, `input_tokens`, `promptTokenCount`) lives only in its own routes file.
 */
export interface ProviderRoutes {
  provider: FakeProviderName;
  match(method: string, pathname: string, query: URLSearchParams, body: unknown): RouteMatch | undefined;
  /** The provider's JSON error body, and a status text where Node has none (529). */
  errorResponse(status: number, message: string): { body: unknown; statusMessage?: string };
  respond(context: RouteContext): Promise<void>;
}
