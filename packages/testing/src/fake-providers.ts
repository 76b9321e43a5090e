import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { anthropicReportRoutes } from "./anthropic-report-routes";
import { anthropicRoutes } from "./anthropic-routes";
import { FakeExchange, watchConnection } from "./fake-exchange";
import type { FakeRule, FakeRuleOverride } from "./fake-rules";
import { fakeRuleHeaderName, parseRuleOverride, RuleBook } from "./fake-rules";
import type { FakeUsage } from "./fake-usage";
import { applyUsageOverrides, defaultOutputTokenCount, deriveUsage } from "./fake-usage";
import { delay, errorStatusOf, mergeFaults } from "./faults";
import { googleRoutes } from "./google-routes";
import { openAIReportRoutes } from "./openai-report-routes";
import { openAIRoutes } from "./openai-routes";
import type { ProviderRoutes, RouteMatch } from "./provider-routes";
import type { RecordedRequest } from "./recorded-request";
import { redactHeaders, redactQuery } from "./redact";
import type { FakePrice } from "./usage-report";

export interface FakeProvidersOptions {
  /** Rules active from the start; they survive `reset()`. */
  rules?: FakeRule[];
  /** Output tokens of a generating call whose request sets no lower cap. Default 16. */
  defaultOutputTokens?: number;
  /** Usage overrides per model id, applied before rules. The ids are also listed by `GET /v1/models`. */
  models?: Record<string, FakeUsage>;
  /**
   * Prices by model id (USD per 1M tokens) for the cost reports (`GET /v1/organization/costs`,
   * `GET /v1/organizations/cost_report`). A model without a price costs nothing there. Default `{}`.
   */
  prices?: Record<string, FakePrice>;
  /** Epoch-ms clock that stamps each logged request (`time`) and ends a usage report that names no end. Default `Date.now`. */
  clock?: () => number;
}

/** A running fake of the OpenAI, Anthropic and Gemini HTTP APIs on 127.0.0.1. */
export interface FakeProviders {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `url + "/v1"`, for `new OpenAI({ baseURL })`. */
  openaiBaseURL: string;
  /** `url`, for `new Anthropic({ baseURL })`. */
  anthropicBaseURL: string;
  /** `url`, for genai `httpOptions.baseUrl` and the old SDK's `requestOptions.baseUrl`. */
  googleBaseUrl: string;
  /** Live request log in arrival order; records are updated in place while their responses are written. */
  requests: RecordedRequest[];
  /** Adds a rule after the start rules and earlier added ones; returns its remover. */
  addRule(rule: FakeRule): () => void;
  /** Drops every rule, the start rules included, until `reset()`. */
  clearRules(): void;
  /** Empties the log (ids restart at 1), drops added rules and restores the start rules with their `times`. */
  reset(): void;
  /** Resolves when no response is in flight: every connection the fake answered has closed or finished. */
  waitForIdle(): Promise<void>;
  close(): Promise<void>;
}

/** Models `GET /v1/models` lists besides the keys of `options.models`. */
const defaultModelIds = ["gpt-4o-mini", "gpt-4o", "text-embedding-3-small"];

/** Google first: its paths (`/v1/models/x:action`) would otherwise look like OpenAI's model retrieval. */
const providerRoutes: readonly ProviderRoutes[] = [
  googleRoutes,
  openAIRoutes,
  anthropicRoutes,
  openAIReportRoutes,
  anthropicReportRoutes,
];

interface ServerState {
  rules: RuleBook;
  requests: RecordedRequest[];
  nextId: number;
  defaultOutputTokens: number;
  models: Record<string, FakeUsage>;
  modelIds: readonly string[];
  prices: Readonly<Record<string, FakePrice>>;
  clock: () => number;
}

/** Starts the fake on 127.0.0.1 with a free port. */
export async function startFakeProviders(options: FakeProvidersOptions = {}): Promise<FakeProviders> {
  const models = options.models ?? {};
  const requestedOutputTokens = options.defaultOutputTokens;
  const state: ServerState = {
    rules: new RuleBook(options.rules ?? []),
    requests: [],
    nextId: 1,
    defaultOutputTokens:
      requestedOutputTokens !== undefined && Number.isInteger(requestedOutputTokens) && requestedOutputTokens >= 0
        ? requestedOutputTokens
        : defaultOutputTokenCount,
    models,
    modelIds: [...new Set([...defaultModelIds, ...Object.keys(models)])],
    prices: { ...options.prices },
    clock: options.clock ?? Date.now,
  };
  const inFlight = new Set<Promise<void>>();

  const server = createServer((request, response) => {
    const handling = handleRequest(request, response, state);
    inFlight.add(handling);
    void handling.finally(() => inFlight.delete(handling));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  const waitForIdle = async (): Promise<void> => {
    while (inFlight.size > 0) {
      await Promise.allSettled([...inFlight]);
    }
  };

  return {
    url,
    openaiBaseURL: `${url}/v1`,
    anthropicBaseURL: url,
    googleBaseUrl: url,
    requests: state.requests,
    addRule: (rule) => state.rules.add(rule),
    clearRules: () => state.rules.clear(),
    reset: () => {
      // Emptied in place so a reference to `requests` taken earlier stays live.
      state.requests.length = 0;
      state.nextId = 1;
      state.rules.reset();
    },
    waitForIdle,
    close: async () => {
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closing;
      await waitForIdle();
    },
  };
}

async function handleRequest(request: IncomingMessage, response: ServerResponse, state: ServerState): Promise<void> {
  const connectionClosed = watchConnection(response);
  try {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const method = request.method ?? "GET";
    const rawBody = await readBody(request);
    const parsed = parseBody(rawBody);
    const found = findRoute(method, url.pathname, url.searchParams, parsed.body);
    if (found === undefined) {
      sendUnrouted(response, method, url.pathname);
      await connectionClosed;
      return;
    }
    const { routes, match } = found;

    const record: RecordedRequest = {
      id: state.nextId++,
      time: state.clock(),
      provider: routes.provider,
      operation: match.operation,
      method,
      path: url.pathname,
      query: redactQuery(url.searchParams),
      body: parsed.body,
      headers: redactHeaders(request.headers),
      model: match.model,
      stream: match.stream,
      status: 0,
      usage: undefined,
      chunksSent: 0,
      clientClosedEarly: false,
      completed: false,
    };
    state.requests.push(record);

    const takenRules = state.rules.take({ provider: routes.provider, ...match });
    const headerOverride = readHeaderOverride(request);
    const override: FakeRuleOverride = headerOverride.override ?? {};
    const fault = mergeFaults([...takenRules.map((rule) => rule.fault), override.fault]);
    const exchange = new FakeExchange(response, connectionClosed, record, fault);

    const badRequestMessage = !parsed.valid
      ? "fake providers: the request body is not valid JSON"
      : headerOverride.errorMessage;
    if (badRequestMessage !== undefined) {
      const { body, statusMessage } = routes.errorResponse(400, badRequestMessage);
      exchange.sendJson(400, body, undefined, statusMessage);
      await exchange.closed;
      return;
    }

    const usage = applyUsageOverrides(deriveUsage(match.operation, parsed.body, state.defaultOutputTokens), [
      match.model === undefined ? undefined : state.models[match.model],
      ...takenRules.map((rule) => rule.usage),
      override.usage,
    ]);

    await delay(fault.latencyMs, exchange.signal);
    const errorStatus = errorStatusOf(fault);
    if (errorStatus !== undefined) {
      const { body, statusMessage } = routes.errorResponse(errorStatus, `fake providers: injected ${errorStatus}`);
      exchange.sendJson(errorStatus, body, undefined, statusMessage);
    } else if (exchange.isOpen) {
      await routes.respond({
        exchange,
        match,
        body: parsed.body,
        query: url.searchParams,
        usage,
        modelIds: state.modelIds,
        requestHeaders: request.headers,
        log: state.requests,
        prices: state.prices,
        now: state.clock(),
      });
    }
    await exchange.closed;
  } catch (error) {
    // A bug in the fake should fail the test that hit it loudly, not hang it.
    if (!response.headersSent && !response.destroyed) {
      const message = error instanceof Error ? error.message : String(error);
      response.writeHead(500, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: { message: `fake providers: ${message}` } }));
    } else {
      response.destroy();
    }
    await connectionClosed;
  }
}

function findRoute(
  method: string,
  pathname: string,
  query: URLSearchParams,
  body: unknown,
): { routes: ProviderRoutes; match: RouteMatch } | undefined {
  for (const routes of providerRoutes) {
    const match = routes.match(method, pathname, query, body);
    if (match !== undefined) {
      return { routes, match };
    }
  }
  return undefined;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseBody(rawBody: string): { body: unknown; valid: boolean } {
  if (rawBody.length === 0) {
    return { body: undefined, valid: true };
  }
  try {
    return { body: JSON.parse(rawBody) as unknown, valid: true };
  } catch {
    return { body: rawBody, valid: false };
  }
}

function readHeaderOverride(request: IncomingMessage): { override?: FakeRuleOverride; errorMessage?: string } {
  const headerValue = request.headers[fakeRuleHeaderName];
  if (typeof headerValue !== "string") {
    return {};
  }
  try {
    return { override: parseRuleOverride(headerValue) };
  } catch (error) {
    return { errorMessage: `fake providers: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** Unknown paths are not logged (they belong to no provider); the 404 names the path to make typos obvious. */
function sendUnrouted(response: ServerResponse, method: string, pathname: string): void {
  response.writeHead(404, { "content-type": "application/json" });
  response.end(JSON.stringify({ error: { message: `fake providers: no route for ${method} ${pathname}` } }));
}
