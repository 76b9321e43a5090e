import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeProviders, fakeRuleHeader, startFakeProviders } from "../src/index";

const dayMs = 86_400_000;
const monday = Date.parse("2026-03-09T00:00:00Z");
const sunday = monday - dayMs;
const mondaySeconds = monday / 1000;
const sundaySeconds = sunday / 1000;

// USD per 1M tokens; round numbers so every expected cost is plain arithmetic.
const prices = {
  "gpt-4o-mini": { input: 1, output: 2, cachedInput: 0.5 },
  "text-embedding-3-small": { input: 0.1, output: 0 },
  "claude-haiku-4-5": { input: 1, output: 5, cachedInput: 0.1, cacheWrite: 1.25, cacheWrite1h: 2 },
};

let fake: FakeProviders;
let now = monday + 10 * 3_600_000;
let openai: OpenAI;
let admin: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  fake = await startFakeProviders({ prices, clock: () => now });
  openai = new OpenAI({ apiKey: "sk-proj-test", baseURL: fake.openaiBaseURL, maxRetries: 0 });
  admin = new OpenAI({ adminAPIKey: "sk-admin-test", baseURL: fake.openaiBaseURL, maxRetries: 0 });
  anthropic = new Anthropic({ apiKey: "sk-ant-test", baseURL: fake.anthropicBaseURL, maxRetries: 0 });
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  now = monday + 10 * 3_600_000;
});

function chat(
  model: string,
  usage: { inputTokens: number; outputTokens: number; cachedInputTokens?: number; reasoningTokens?: number },
) {
  return openai.chat.completions.create(
    { model, messages: [{ role: "user", content: "Hi" }] },
    { headers: fakeRuleHeader({ usage }) },
  );
}

function message(usage: Parameters<typeof fakeRuleHeader>[0]["usage"], stream = false) {
  const body = { model: "claude-haiku-4-5", max_tokens: 64, messages: [{ role: "user" as const, content: "Hi" }] };
  const options = { headers: fakeRuleHeader({ ...(usage === undefined ? {} : { usage }) }) };
  return stream
    ? anthropic.messages.create({ ...body, stream: true }, options).then(async (events) => {
        for await (const _event of events) {
          // drain
        }
      })
    : anthropic.messages.create(body, options);
}

function inputTokensOf(result: object | undefined): unknown {
  return result !== undefined && "input_tokens" in result ? result.input_tokens : undefined;
}

async function anthropicReport(path: string, query: string, key = "sk-ant-admin01-test") {
  const response = await fetch(`${fake.anthropicBaseURL}${path}?${query}`, {
    headers: { "x-api-key": key, "anthropic-version": "2023-06-01" },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("OpenAI usage report", () => {
  it("sums completed requests by UTC day and model, from start_time on, through the real SDK's admin client", async () => {
    now = sunday + 23 * 3_600_000;
    await chat("gpt-4o-mini", { inputTokens: 100, outputTokens: 10 });
    now = monday + 3_600_000;
    await chat("gpt-4o-mini", { inputTokens: 200, outputTokens: 20, cachedInputTokens: 50 });
    await openai.responses.create(
      { model: "gpt-4o-mini", input: "Hi" },
      { headers: fakeRuleHeader({ usage: { inputTokens: 300, outputTokens: 30 } }) },
    );
    await chat("gpt-4o", { inputTokens: 7, outputTokens: 3 });
    // Not billed on the report: no usage went over the wire, or the call failed.
    await openai.chat.completions.create(
      { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] },
      { headers: fakeRuleHeader({ fault: { omitUsage: true } }) },
    );
    await chat("gpt-4o-mini", { inputTokens: 1, outputTokens: 1 });
    await expect(
      openai.chat.completions.create(
        { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] },
        { headers: fakeRuleHeader({ fault: { status: 500 } }) },
      ),
    ).rejects.toThrow();
    await openai.embeddings.create(
      { model: "text-embedding-3-small", input: "Hello" },
      { headers: fakeRuleHeader({ usage: { inputTokens: 40 } }) },
    );

    const page = await admin.admin.organization.usage.completions({
      start_time: sundaySeconds,
      bucket_width: "1d",
      group_by: ["model"],
    });
    expect(page).toMatchObject({ object: "page", has_more: false, next_page: null });
    expect(page.data.map((bucket) => [bucket.start_time, bucket.end_time])).toEqual([
      [sundaySeconds, mondaySeconds],
      [mondaySeconds, mondaySeconds + 86_400],
    ]);
    expect(page.data[0]?.results).toEqual([
      expect.objectContaining({
        object: "organization.usage.completions.result",
        model: "gpt-4o-mini",
        input_tokens: 100,
        output_tokens: 10,
        input_cached_tokens: 0,
        num_model_requests: 1,
      }),
    ]);
    expect(page.data[1]?.results).toEqual([
      expect.objectContaining({
        model: "gpt-4o-mini",
        input_tokens: 200 + 300 + 1,
        output_tokens: 20 + 30 + 1,
        input_cached_tokens: 50,
        input_uncached_tokens: 200 + 300 + 1 - 50,
        num_model_requests: 3,
      }),
      expect.objectContaining({ model: "gpt-4o", input_tokens: 7, output_tokens: 3, num_model_requests: 1 }),
    ]);

    const fromMonday = await admin.admin.organization.usage.completions({ start_time: mondaySeconds });
    expect(fromMonday.data).toHaveLength(1);
    expect(fromMonday.data[0]?.results).toEqual([
      expect.objectContaining({ model: null, input_tokens: 508, output_tokens: 54, num_model_requests: 4 }),
    ]);

    const embeddings = await admin.admin.organization.usage.embeddings({
      start_time: mondaySeconds,
      group_by: ["model"],
    });
    expect(embeddings.data[0]?.results).toEqual([
      expect.objectContaining({
        object: "organization.usage.embeddings.result",
        model: "text-embedding-3-small",
        input_tokens: 40,
        num_model_requests: 1,
      }),
    ]);

    const onlyGpt4o = await admin.admin.organization.usage.completions({
      start_time: mondaySeconds,
      group_by: ["model"],
      models: ["gpt-4o"],
    });
    expect(onlyGpt4o.data[0]?.results.map((result) => ("model" in result ? result.model : undefined))).toEqual([
      "gpt-4o",
    ]);
  });

  it("pages by `limit` buckets with has_more and next_page, and ends at end_time", async () => {
    for (let day = 0; day < 3; day++) {
      now = sunday - dayMs + day * dayMs + 1000;
      await chat("gpt-4o-mini", { inputTokens: 10 * (day + 1), outputTokens: 1 });
    }
    const start = (sunday - dayMs) / 1000;
    const first = await admin.admin.organization.usage.completions({ start_time: start, limit: 2 });
    expect(first.has_more).toBe(true);
    expect(first.next_page).toMatch(/^page_/);
    expect(first.data.map((bucket) => inputTokensOf(bucket.results[0]))).toEqual([10, 20]);
    const second = await admin.admin.organization.usage.completions({
      start_time: start,
      limit: 2,
      page: first.next_page ?? "",
    });
    expect(second).toMatchObject({ has_more: false, next_page: null });
    expect(second.data.map((bucket) => inputTokensOf(bucket.results[0]))).toEqual([30]);

    const bounded = await admin.admin.organization.usage.completions({ start_time: start, end_time: sundaySeconds });
    expect(bounded.data).toHaveLength(1);
  });

  it("prices the costs endpoint with `prices`, by line item or in total", async () => {
    // Reasoning tokens are billed but not written out, which keeps these large replies short.
    await chat("gpt-4o-mini", {
      inputTokens: 1_000_000,
      outputTokens: 500_000,
      reasoningTokens: 500_000,
      cachedInputTokens: 200_000,
    });
    await openai.embeddings.create(
      { model: "text-embedding-3-small", input: "Hello" },
      { headers: fakeRuleHeader({ usage: { inputTokens: 1_000_000 } }) },
    );
    await chat("unpriced-model", { inputTokens: 1_000_000, outputTokens: 1_000_000, reasoningTokens: 1_000_000 });

    const byLine = await admin.admin.organization.usage.costs({ start_time: mondaySeconds, group_by: ["line_item"] });
    const lines = Object.fromEntries(
      (byLine.data[0]?.results ?? []).map((result) => [
        "line_item" in result ? result.line_item : "",
        "amount" in result ? result.amount?.value : undefined,
      ]),
    );
    expect(lines).toEqual({
      "gpt-4o-mini, input": 0.8,
      "gpt-4o-mini, cached input": 0.1,
      "gpt-4o-mini, output": 1,
      "text-embedding-3-small, input": 0.1,
    });
    const total = await admin.admin.organization.usage.costs({ start_time: mondaySeconds });
    expect(total.data[0]?.results).toEqual([
      expect.objectContaining({ object: "organization.costs.result", line_item: null }),
    ]);
    const amount = total.data[0]?.results[0];
    expect(amount !== undefined && "amount" in amount ? amount.amount?.value : undefined).toBeCloseTo(2, 9);
  });

  it("wants an admin key, never echoes it, and logs the request with the key redacted", async () => {
    const projectKey = new OpenAI({ adminAPIKey: "sk-proj-PLANTED-KEY", baseURL: fake.openaiBaseURL, maxRetries: 0 });
    const refused = await projectKey.admin.organization.usage
      .completions({ start_time: mondaySeconds })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(String((refused as Error).message)).not.toContain("PLANTED");
    const missing = await fetch(`${fake.openaiBaseURL}/organization/costs?start_time=${mondaySeconds}`);
    expect(missing.status).toBe(401);
    const badQuery = await admin.admin.organization.usage
      .completions({ start_time: mondaySeconds, bucket_width: "1h" })
      .catch((error: unknown) => error);
    expect(badQuery).toBeInstanceOf(OpenAI.BadRequestError);

    expect(fake.requests.map((request) => [request.operation, request.status])).toEqual([
      ["openai.usageReport", 403],
      ["openai.costReport", 401],
      ["openai.usageReport", 400],
    ]);
    expect(JSON.stringify(fake.requests)).not.toContain("PLANTED");
  });
});

describe("Anthropic usage and cost reports", () => {
  it("sums messages by UTC day and model with the cache split, from starting_at on", async () => {
    now = sunday + 1000;
    await message({ inputTokens: 50, outputTokens: 5 });
    now = monday + 1000;
    const usage = {
      inputTokens: 1000,
      cachedInputTokens: 200,
      cacheWriteInputTokens: 300,
      cacheWrite1hInputTokens: 100,
      outputTokens: 40,
    };
    await message(usage);
    await message(usage, true);
    await message(undefined).then(() => undefined);

    const report = await anthropicReport(
      "/v1/organizations/usage_report/messages",
      `starting_at=${encodeURIComponent("2026-03-08T00:00:00Z")}&bucket_width=1d&group_by[]=model`,
    );
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ has_more: false, next_page: null });
    const data = report.body.data as Array<{ starting_at: string; ending_at: string; results: unknown[] }>;
    expect(data.map((bucket) => [bucket.starting_at, bucket.ending_at])).toEqual([
      ["2026-03-08T00:00:00Z", "2026-03-09T00:00:00Z"],
      ["2026-03-09T00:00:00Z", "2026-03-10T00:00:00Z"],
    ]);
    expect(data[0]?.results).toEqual([
      expect.objectContaining({ model: "claude-haiku-4-5", uncached_input_tokens: 50, output_tokens: 5 }),
    ]);
    // "Hi" is 1 input token and the cap of 64 leaves the default 16 output tokens for the plain call.
    expect(data[1]?.results).toEqual([
      {
        uncached_input_tokens: 2 * 400 + 1,
        cache_creation: { ephemeral_1h_input_tokens: 200, ephemeral_5m_input_tokens: 600 },
        cache_read_input_tokens: 400,
        output_tokens: 2 * 40 + 16,
        server_tool_use: { web_search_requests: 0 },
        api_key_id: null,
        workspace_id: null,
        model: "claude-haiku-4-5",
        service_tier: null,
        context_window: null,
      },
    ]);

    const fromMonday = await anthropicReport(
      "/v1/organizations/usage_report/messages",
      `starting_at=${encodeURIComponent("2026-03-09T05:00:00Z")}`,
    );
    expect(fromMonday.body.data).toEqual([expect.objectContaining({ starting_at: "2026-03-09T00:00:00Z" })]);
    expect((fromMonday.body.data as Array<{ results: unknown[] }>)[0]?.results).toEqual([
      expect.objectContaining({ model: null, output_tokens: 96 }),
    ]);
  });

  it("pages with limit and next_page, and stops at buckets ending before ending_at", async () => {
    const query = `starting_at=2026-03-05T00:00:00Z&ending_at=2026-03-09T00:00:00Z&limit=3`;
    const first = await anthropicReport("/v1/organizations/usage_report/messages", query);
    expect((first.body.data as unknown[]).length).toBe(3);
    expect(first.body.has_more).toBe(true);
    const next = String(first.body.next_page);
    const second = await anthropicReport(
      "/v1/organizations/usage_report/messages",
      `${query}&page=${encodeURIComponent(next)}`,
    );
    expect(second.body).toMatchObject({ has_more: false, next_page: null });
    expect(second.body.data).toEqual([expect.objectContaining({ starting_at: "2026-03-08T00:00:00Z" })]);
  });

  it("prices the cost report in cents as decimal strings, by description or in total", async () => {
    await message({
      inputTokens: 1_600_000,
      cachedInputTokens: 100_000,
      cacheWriteInputTokens: 200_000,
      cacheWrite1hInputTokens: 300_000,
      outputTokens: 100_000,
    });
    const byDescription = await anthropicReport(
      "/v1/organizations/cost_report",
      "starting_at=2026-03-09T00:00:00Z&group_by[]=description",
    );
    const results = (byDescription.body.data as Array<{ results: Array<Record<string, unknown>> }>)[0]?.results;
    expect(results?.map((result) => [result.token_type, result.amount])).toEqual([
      ["uncached_input_tokens", "100"],
      ["cache_read_input_tokens", "1"],
      ["cache_creation.ephemeral_5m_input_tokens", "25"],
      ["cache_creation.ephemeral_1h_input_tokens", "60"],
      ["output_tokens", "50"],
    ]);
    expect(results?.[0]).toMatchObject({
      currency: "USD",
      cost_type: "tokens",
      model: "claude-haiku-4-5",
      description: "claude-haiku-4-5 Usage - Input Tokens",
    });
    const total = await anthropicReport("/v1/organizations/cost_report", "starting_at=2026-03-09T00:00:00Z");
    expect((total.body.data as Array<{ results: unknown[] }>)[0]?.results).toEqual([
      expect.objectContaining({ currency: "USD", amount: "236", model: null, description: null }),
    ]);
  });

  it("wants an admin key and anthropic-version, and never echoes the key", async () => {
    const path = "/v1/organizations/usage_report/messages";
    const planted = await anthropicReport(path, "starting_at=2026-03-09T00:00:00Z", "sk-ant-api03-PLANTED");
    expect(planted.status).toBe(403);
    expect(planted.body).toMatchObject({ type: "error", error: { type: "permission_error" } });
    const noVersion = await fetch(`${fake.anthropicBaseURL}${path}?starting_at=2026-03-09T00:00:00Z`, {
      headers: { "x-api-key": "sk-ant-admin01-test" },
    });
    expect(noVersion.status).toBe(400);
    const noStart = await anthropicReport(path, "bucket_width=1d");
    expect(noStart.status).toBe(400);
    expect(JSON.stringify([planted.body, fake.requests])).not.toContain("PLANTED");
  });
});
