import type { FakeExchange } from "./fake-exchange";
import type { FakeOperation, FakeProviderName } from "./fake-rules";
import type { FakeUsage } from "./fake-usage";

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
