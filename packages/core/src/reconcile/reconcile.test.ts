import { describe, expect, it } from "vitest";
import { describeAlert } from "../alerts/alert";
import { ConfigurationError } from "../errors/configuration-error";
import { ReconcileError } from "../errors/reconcile-error";
import { createMemoryStore } from "../store/memory-store";
import type { UsageRecord } from "../store/store";
import { modelFamily, reconcile } from "./reconcile";

const dayMs = 86_400_000;
const monday = Date.UTC(2026, 2, 9);
const sunday = monday - dayMs;
const openaiKey = "sk-admin-PLANTED0penAIkey0123456789";
const anthropicKey = "sk-ant-admin01-PLANTEDanthropicKey0123456789";

interface SentRequest {
  url: URL;
  headers: Record<string, string>;
}

/** A `fetch` that answers each report path from `routes` (one body per page, in order) and records the requests. */
function fakeFetch(routes: Record<string, unknown[] | ((url: URL) => Response)>) {
  const sent: SentRequest[] = [];
  const pagesServed = new Map<string, number>();
  const fetchFunction = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input);
    sent.push({ url, headers: { ...(init?.headers as Record<string, string>) } });
    const route = routes[url.pathname];
    if (route === undefined) return new Response("{}", { status: 404 });
    if (typeof route === "function") return route(url);
    const index = pagesServed.get(url.pathname) ?? 0;
    pagesServed.set(url.pathname, index + 1);
    return Response.json(route[Math.min(index, route.length - 1)]);
  };
  return { fetch: fetchFunction as typeof fetch, sent };
}

function openAIPage(buckets: unknown[], next: string | null = null) {
  return { object: "page", data: buckets, has_more: next !== null, next_page: next };
}

function openAIBucket(startMs: number, results: unknown[]) {
  return { object: "bucket", start_time: startMs / 1000, end_time: (startMs + dayMs) / 1000, results };
}

function completions(model: string, input: number, output: number, requests = 1) {
  return {
    object: "organization.usage.completions.result",
    input_tokens: input,
    output_tokens: output,
    input_cached_tokens: 0,
    num_model_requests: requests,
    model,
  };
}

function cost(lineItem: string, usd: number) {
  return { object: "organization.costs.result", amount: { value: usd, currency: "usd" }, line_item: lineItem };
}

function record(overrides: Partial<UsageRecord>): UsageRecord {
  return {
    time: monday + 3_600_000,
    provider: "openai",
    model: "gpt-4o-mini",
    operation: "openai.chat",
    inputTokens: 0,
    cachedInputTokens: 0,
    cacheWriteInputTokens: 0,
    outputTokens: 0,
    reasoningTokens: 0,
    costNanoUsd: 0,
    estimated: false,
    status: "ok",
    latencyMs: 10,
    ...overrides,
  };
}

async function ledger(records: Partial<UsageRecord>[]) {
  const store = createMemoryStore({ clock: () => monday + 12 * 3_600_000 });
  for (const overrides of records) await store.record(record(overrides));
  return store;
}

const mondayNoon = new Date(monday + 12 * 3_600_000);

describe("reconcile with OpenAI", () => {
  it("matches the reports' snapshot names with the ledger's aliases and stays quiet when all spend is in the ledger", async () => {
    const store = await ledger([
      { inputTokens: 1200, outputTokens: 300, costNanoUsd: 0.36e6 },
      { model: "text-embedding-3-small", operation: "openai.embeddings", inputTokens: 500, costNanoUsd: 0.01e6 },
    ]);
    const { fetch, sent } = fakeFetch({
      "/v1/organization/usage/completions": [
        openAIPage([openAIBucket(monday, [completions("gpt-4o-mini-2024-07-18", 1200, 300)])]),
      ],
      "/v1/organization/usage/embeddings": [
        openAIPage([
          openAIBucket(monday, [
            {
              object: "organization.usage.embeddings.result",
              input_tokens: 500,
              num_model_requests: 1,
              model: "text-embedding-3-small",
            },
          ]),
        ]),
      ],
      "/v1/organization/costs": [
        openAIPage([
          openAIBucket(monday, [
            cost("gpt-4o-mini-2024-07-18, input", 0.00018),
            cost("gpt-4o-mini-2024-07-18, output", 0.00018),
            cost("text-embedding-3-small, input", 0.00001),
          ]),
        ]),
      ],
    });

    const report = await reconcile({
      since: new Date(monday + 5 * 3_600_000),
      until: mondayNoon,
      store,
      openai: { adminKey: openaiKey },
      fetch,
      clock: () => monday + 12 * 3_600_000,
    });

    expect(report.suspicious).toBe(false);
    expect(report.alerts).toEqual([]);
    expect(report.since).toEqual(new Date(monday));
    expect(report.until).toEqual(new Date(monday + dayMs));
    expect(report.providers).toEqual([
      {
        provider: "openai",
        model: "gpt-4o-mini",
        day: "2026-03-09",
        reported: { tokens: 1500, usd: 0.00036, requests: 1 },
        ledger: { tokens: 1500, usd: 0.00036, requests: 1 },
        unaccountedTokens: 0,
        unaccountedUsd: 0,
        suspicious: false,
      },
      expect.objectContaining({ model: "text-embedding-3-small", unaccountedTokens: 0, suspicious: false }),
    ]);

    const completionsRequest = sent.find((request) => request.url.pathname.endsWith("/completions"));
    expect(completionsRequest?.url.origin).toBe("https://api.openai.com");
    expect(Object.fromEntries(completionsRequest?.url.searchParams ?? [])).toEqual({
      start_time: String(monday / 1000),
      end_time: String((monday + dayMs) / 1000),
      bucket_width: "1d",
      "group_by[]": "model",
      limit: "31",
    });
    expect(completionsRequest?.headers.authorization).toBe(`Bearer ${openaiKey}`);
    expect(sent.find((request) => request.url.pathname.endsWith("/costs"))?.url.searchParams.get("group_by[]")).toBe(
      "line_item",
    );
  });

  it("flags tokens and USD the ledger does not hold, and raises one alert per model and day", async () => {
    const store = await ledger([{ inputTokens: 1000, outputTokens: 100, costNanoUsd: 0.2e6 }]);
    const { fetch } = fakeFetch({
      "/v1/organization/usage/completions": [
        openAIPage([
          openAIBucket(sunday, [completions("gpt-4o", 40_000, 10_000, 20)]),
          openAIBucket(monday, [completions("gpt-4o-mini", 61_000, 100, 21)]),
        ]),
      ],
      "/v1/organization/usage/embeddings": [openAIPage([])],
      "/v1/organization/costs": [
        openAIPage([
          openAIBucket(sunday, [cost("gpt-4o, input", 0.1), cost("gpt-4o, output", 0.1)]),
          openAIBucket(monday, [cost("gpt-4o-mini, input", 0.0092)]),
        ]),
      ],
    });
    const report = await reconcile({
      since: new Date(sunday),
      until: mondayNoon,
      store,
      openai: { adminKey: openaiKey },
      fetch,
      clock: () => monday + 12 * 3_600_000,
    });

    expect(report.suspicious).toBe(true);
    expect(report.providers.map((row) => [row.day, row.model, row.unaccountedTokens, row.suspicious])).toEqual([
      ["2026-03-08", "gpt-4o", 50_000, true],
      ["2026-03-09", "gpt-4o-mini", 60_000, true],
    ]);
    expect(report.providers[0]).toMatchObject({ ledger: { tokens: 0, usd: 0, requests: 0 }, unaccountedUsd: 0.2 });
    expect(report.providers[1]?.unaccountedUsd).toBeCloseTo(0.009, 9);
    expect(report.alerts).toEqual([
      {
        type: "reconcile.mismatch",
        provider: "openai",
        model: "gpt-4o",
        day: "2026-03-08",
        unaccountedTokens: 50_000,
        unaccountedUsd: 0.2,
        time: new Date(monday + 12 * 3_600_000),
      },
      expect.objectContaining({ model: "gpt-4o-mini", day: "2026-03-09", unaccountedTokens: 60_000 }),
    ]);
    expect(describeAlert(report.alerts[0]!)).toBe(
      "Tollgate: openai reports 50000 gpt-4o tokens ($0.2000) on 2026-03-08 that did not go through the guard — is the API key used elsewhere?",
    );
  });

  it("absorbs the legitimately unseen: 1,000 tokens or 2% of the ledger, and $0.01 or 2%", async () => {
    const store = await ledger([
      { inputTokens: 100_000, outputTokens: 0, costNanoUsd: 1e9 },
      { model: "gpt-4o", inputTokens: 10, outputTokens: 0 },
    ]);
    const respond = (miniTokens: number, miniUsd: number, gpt4oTokens: number) =>
      fakeFetch({
        "/v1/organization/usage/completions": [
          openAIPage([
            openAIBucket(monday, [completions("gpt-4o-mini", miniTokens, 0), completions("gpt-4o", gpt4oTokens, 0)]),
          ]),
        ],
        "/v1/organization/usage/embeddings": [openAIPage([])],
        "/v1/organization/costs": [openAIPage([openAIBucket(monday, [cost("gpt-4o-mini, input", miniUsd)])])],
      }).fetch;
    const run = (fetchFunction: typeof fetch, tolerances: { toleranceTokens?: number; toleranceUsd?: number } = {}) =>
      reconcile({
        since: new Date(monday),
        until: mondayNoon,
        store,
        openai: { adminKey: openaiKey },
        fetch: fetchFunction,
        ...tolerances,
      });

    // +2,000 tokens on 100,000 (2%) and +$0.02 on $1 (2%); +1,000 tokens on a model with 10 in the ledger.
    expect((await run(respond(102_000, 1.02, 1010))).suspicious).toBe(false);
    const over = await run(respond(102_001, 1.02, 1011));
    expect(over.providers.map((row) => [row.model, row.suspicious])).toEqual([
      ["gpt-4o", true],
      ["gpt-4o-mini", true],
    ]);
    expect((await run(respond(100_000, 1.03, 10))).providers.find((row) => row.suspicious)?.model).toBe("gpt-4o-mini");
    expect((await run(respond(100_000, 5, 10), { toleranceUsd: Number.POSITIVE_INFINITY })).suspicious).toBe(false);
    expect((await run(respond(100_500, 1, 10), { toleranceTokens: 0 })).suspicious).toBe(false);
    // Less on the provider's side (its reports lag) is never suspicious.
    expect((await run(respond(0, 0, 0))).suspicious).toBe(false);
  });

  it("follows next_page until has_more is false, and sends the key and project filters", async () => {
    const store = await ledger([]);
    const { fetch, sent } = fakeFetch({
      "/v1/organization/usage/completions": [
        openAIPage([openAIBucket(sunday, [completions("gpt-4o-mini", 5000, 0)])], "page_2"),
        openAIPage([openAIBucket(monday, [completions("gpt-4o-mini", 7000, 0)])]),
      ],
      "/v1/organization/usage/embeddings": [openAIPage([])],
      "/v1/organization/costs": [openAIPage([])],
    });
    const report = await reconcile({
      since: new Date(sunday),
      until: mondayNoon,
      store,
      openai: { adminKey: openaiKey, baseURL: "http://127.0.0.1:9/v1/", apiKeyIds: ["key_a"], projectIds: ["proj_b"] },
      fetch,
    });
    expect(report.providers.map((row) => [row.day, row.unaccountedTokens, row.reported.usd])).toEqual([
      ["2026-03-08", 5000, 0],
      ["2026-03-09", 7000, 0],
    ]);
    const pages = sent.filter((request) => request.url.pathname === "/v1/organization/usage/completions");
    expect(pages.map((request) => request.url.searchParams.get("page"))).toEqual([null, "page_2"]);
    expect(pages[0]?.url.searchParams.getAll("api_key_ids[]")).toEqual(["key_a"]);
    expect(pages[0]?.url.searchParams.getAll("project_ids[]")).toEqual(["proj_b"]);
  });
});

describe("reconcile with Anthropic", () => {
  const usageReport = (results: unknown[]) => ({
    data: [{ starting_at: "2026-03-09T00:00:00Z", ending_at: "2026-03-10T00:00:00Z", results }],
    has_more: false,
    next_page: null,
  });
  const usageResult = {
    uncached_input_tokens: 1500,
    cache_creation: { ephemeral_1h_input_tokens: 1000, ephemeral_5m_input_tokens: 500 },
    cache_read_input_tokens: 200,
    output_tokens: 500,
    model: "claude-sonnet-4-5-20250929",
  };

  it("adds the cache parts to the input, reads cents, and stays quiet when they match the ledger", async () => {
    const store = await ledger([
      {
        provider: "anthropic",
        model: "claude-sonnet-4-5",
        operation: "anthropic.messages",
        inputTokens: 3200,
        cachedInputTokens: 200,
        cacheWriteInputTokens: 1500,
        outputTokens: 500,
        costNanoUsd: 0.02e9,
      },
    ]);
    const { fetch, sent } = fakeFetch({
      "/v1/organizations/usage_report/messages": [usageReport([usageResult])],
      "/v1/organizations/cost_report": [
        usageReport([
          { currency: "USD", amount: "1.5", model: "claude-sonnet-4-5-20250929", token_type: "uncached_input_tokens" },
          { currency: "USD", amount: "0.5", model: "claude-sonnet-4-5-20250929", token_type: "output_tokens" },
          { currency: "USD", amount: "0.25", model: null, cost_type: "web_search", description: "Web Search" },
        ]),
      ],
    });
    const report = await reconcile({
      since: new Date(monday),
      until: mondayNoon,
      store,
      anthropic: { adminKey: anthropicKey },
      fetch,
    });
    expect(report.suspicious).toBe(false);
    expect(report.providers).toEqual([
      expect.objectContaining({
        model: "claude-sonnet-4-5",
        reported: { tokens: 3700, usd: 0.02, requests: undefined },
        unaccountedTokens: 0,
        unaccountedUsd: 0,
      }),
      // Non-token spend is listed, never suspicious: the guard meters tokens only.
      expect.objectContaining({ model: "web search", unaccountedUsd: 0.0025, suspicious: false }),
    ]);
    const usageRequest = sent.find((request) => request.url.pathname.includes("usage_report"));
    expect(usageRequest?.url.origin).toBe("https://api.anthropic.com");
    expect(Object.fromEntries(usageRequest?.url.searchParams ?? [])).toEqual({
      starting_at: "2026-03-09T00:00:00Z",
      ending_at: "2026-03-10T00:00:00Z",
      bucket_width: "1d",
      "group_by[]": "model",
      limit: "31",
    });
    expect(usageRequest?.headers).toMatchObject({ "x-api-key": anthropicKey, "anthropic-version": "2023-06-01" });
  });

  it("filters by API key without reading the unfilterable cost report, comparing tokens only", async () => {
    const store = await ledger([]);
    const { fetch, sent } = fakeFetch({ "/v1/organizations/usage_report/messages": [usageReport([usageResult])] });
    const report = await reconcile({
      since: new Date(monday),
      until: mondayNoon,
      store,
      anthropic: { adminKey: anthropicKey, apiKeyIds: ["apikey_01"] },
      fetch,
    });
    expect(sent.map((request) => request.url.pathname)).toEqual(["/v1/organizations/usage_report/messages"]);
    expect(sent[0]?.url.searchParams.getAll("api_key_ids[]")).toEqual(["apikey_01"]);
    expect(report.providers).toEqual([
      expect.objectContaining({ unaccountedTokens: 3700, unaccountedUsd: undefined, suspicious: true }),
    ]);
    expect(describeAlert(report.alerts[0]!)).toBe(
      "Tollgate: anthropic reports 3700 claude-sonnet-4-5 tokens on 2026-03-09 that did not go through the guard — is the API key used elsewhere?",
    );
  });
});

describe("errors never carry the admin key", () => {
  it("scrubs the key from a provider's error answer, a failed fetch and its cause", async () => {
    const store = await ledger([]);
    const echoing = fakeFetch({
      "/v1/organization/usage/completions": () =>
        Response.json(
          { error: { message: `Incorrect API key provided: ${openaiKey}. Also sk-admin-****6789.` } },
          { status: 401 },
        ),
      "/v1/organization/usage/embeddings": [openAIPage([])],
      "/v1/organization/costs": [openAIPage([])],
    }).fetch;
    const refused = await reconcile({ since: new Date(monday), store, openai: { adminKey: openaiKey }, fetch: echoing })
      .then(() => undefined)
      .catch((error: unknown) => error);
    expect(ReconcileError.isInstance(refused)).toBe(true);
    expect(refused).toMatchObject({
      code: "RECONCILE_FAILED",
      provider: "openai",
      endpoint: "/v1/organization/usage/completions",
      status: 401,
    });
    expect((refused as Error).message).toContain("401 Incorrect API key provided: [redacted]");
    expect((refused as Error).message).toContain("(is it an admin key?)");

    const throwing = (async () => {
      throw new TypeError(`connect failed for ${anthropicKey}`);
    }) as typeof fetch;
    const failed = await reconcile({
      since: new Date(monday),
      store,
      anthropic: { adminKey: anthropicKey },
      fetch: throwing,
    }).catch((error: unknown) => error);
    expect(failed).toMatchObject({ code: "RECONCILE_FAILED", provider: "anthropic", status: undefined });

    const shapeless = fakeFetch({
      "/v1/organizations/usage_report/messages": [{ error: "nope" }],
      "/v1/organizations/cost_report": [{ data: [] }],
    }).fetch;
    const unexpected = await reconcile({
      since: new Date(monday),
      store,
      anthropic: { adminKey: anthropicKey },
      fetch: shapeless,
    }).catch((error: unknown) => error);
    expect((unexpected as Error).message).toContain("no `data` array");

    for (const error of [refused, failed, unexpected]) {
      const everything = [
        String(error),
        (error as Error).stack,
        String((error as Error).cause),
        ((error as Error).cause as Error | undefined)?.stack,
        JSON.stringify(error),
      ].join("\n");
      expect(everything).not.toContain("PLANTED");
    }
  });

  it("names fields, never keys, in configuration errors", async () => {
    const store = await ledger([]);
    const attempts = [
      reconcile({ since: new Date(monday), store }),
      reconcile({ since: new Date(Number.NaN), store, openai: { adminKey: openaiKey } }),
      reconcile({ since: new Date(monday), until: new Date(monday - dayMs), store, openai: { adminKey: openaiKey } }),
      reconcile({ since: new Date(monday), store, openai: { adminKey: " " } }),
      reconcile({ since: new Date(monday), store, openai: { adminKey: openaiKey, baseURL: "ftp://x" } }),
      reconcile({ since: new Date(monday), store, openai: { adminKey: openaiKey }, toleranceTokens: -1 }),
    ];
    const errors = await Promise.all(attempts.map((attempt) => attempt.catch((error: unknown) => error)));
    expect(errors.map((error) => (ConfigurationError.isInstance(error) ? error.field : error))).toEqual([
      "openai",
      "since",
      "until",
      "openai.adminKey",
      "openai.baseURL",
      "toleranceTokens",
    ]);
    expect(errors.map(String).join("\n")).not.toContain("PLANTED");
  });
});

describe("modelFamily", () => {
  it.each([
    ["gpt-4o-mini-2024-07-18", "gpt-4o-mini"],
    ["gpt-4o-mini", "gpt-4o-mini"],
    ["gpt-3.5-turbo-0125", "gpt-3.5-turbo"],
    ["claude-sonnet-4-5-20250929", "claude-sonnet-4-5"],
    ["claude-3-7-sonnet-latest", "claude-3-7-sonnet"],
    ["text-embedding-3-small", "text-embedding-3-small"],
    ["o1", "o1"],
  ])("%s → %s", (model, family) => {
    expect(modelFamily(model)).toBe(family);
  });
});
