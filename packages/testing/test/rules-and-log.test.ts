import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import { GoogleGenerativeAI } from "@google/generative-ai";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeProviders, fakeRuleHeader, startFakeProviders } from "../src/index";

let fake: FakeProviders;
let openai: OpenAI;

beforeAll(async () => {
  fake = await startFakeProviders({
    rules: [{ match: { model: "start-rule-model" }, usage: { outputTokens: 2 }, times: 1 }],
    models: { "gpt-4o": { cachedInputTokens: 3 } },
  });
  openai = new OpenAI({ apiKey: "sk-test", baseURL: fake.openaiBaseURL, maxRetries: 0 });
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

// "Hi" is 2 characters → 1 input token.
function chat(model: string, options?: OpenAI.RequestOptions) {
  return openai.chat.completions.create({ model, messages: [{ role: "user", content: "Hi" }] }, options);
}

describe("redaction", () => {
  it("keeps a planted key out of the whole log for every SDK", async () => {
    const secret = "sk-proj-SECRET123";
    const secretOpenAI = new OpenAI({
      apiKey: secret,
      baseURL: fake.openaiBaseURL,
      maxRetries: 0,
      defaultHeaders: { "x-trace": `Bearer ${secret}`, "x-session-token": "opaque" },
    });
    await secretOpenAI.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] });
    await new Anthropic({ apiKey: secret, baseURL: fake.anthropicBaseURL, maxRetries: 0 }).messages.create({
      model: "claude-haiku-4-5",
      max_tokens: 1,
      messages: [{ role: "user", content: "Hi" }],
    });
    await new GoogleGenAI({ apiKey: secret, httpOptions: { baseUrl: fake.googleBaseUrl } }).models.countTokens({
      model: "gemini-2.5-flash",
      contents: "Hi",
    });
    await new GoogleGenerativeAI(secret)
      .getGenerativeModel({ model: "gemini-2.5-flash" }, { baseUrl: fake.googleBaseUrl })
      .countTokens("Hi");
    await fetch(`${fake.googleBaseUrl}/v1beta/models/gemini-2.5-flash:countTokens?key=${secret}&alt=json`, {
      method: "POST",
      body: JSON.stringify({ contents: [{ parts: [{ text: "Hi" }] }] }),
    });
    // Anthropic's SDK 1.x sends its key as a bearer token; older clients and curl use x-api-key.
    await fetch(`${fake.anthropicBaseURL}/v1/messages/count_tokens`, {
      method: "POST",
      headers: { "x-api-key": secret, "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-haiku-4-5", messages: [{ role: "user", content: "Hi" }] }),
    });

    expect(fake.requests).toHaveLength(6);
    expect(JSON.stringify(fake.requests)).not.toContain("SECRET123");
    expect(fake.requests[0]?.headers).toMatchObject({
      authorization: "[redacted]",
      "x-trace": "[redacted]",
      "x-session-token": "[redacted]",
      "x-stainless-lang": "js",
    });
    expect(fake.requests[1]?.headers.authorization).toBe("[redacted]");
    expect(fake.requests[2]?.headers["x-goog-api-key"]).toBe("[redacted]");
    expect(fake.requests[3]?.headers["x-goog-api-key"]).toBe("[redacted]");
    expect(fake.requests[4]?.query).toEqual({ key: "[redacted]", alt: "json" });
    expect(fake.requests[5]?.headers["x-api-key"]).toBe("[redacted]");
  });
});

describe("rules", () => {
  it("apply only to the requests they match", async () => {
    fake.addRule({ match: { provider: "openai", model: "gpt-4o-mini", stream: false }, usage: { outputTokens: 1 } });
    fake.addRule({ match: { operation: "openai.responses" }, usage: { outputTokens: 7 } });
    const matched = await chat("gpt-4o-mini");
    const otherModel = await chat("gpt-4.1");
    const streamed = await openai.chat.completions
      .stream({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: "Hi" }],
        stream_options: { include_usage: true },
      })
      .finalChatCompletion();

    expect(matched.usage?.completion_tokens).toBe(1);
    expect(otherModel.usage?.completion_tokens).toBe(16);
    expect(streamed.usage?.completion_tokens).toBe(16);
  });

  it("with times apply to the next N matching requests only", async () => {
    fake.addRule({ usage: { outputTokens: 2 }, times: 2 });
    const counts: Array<number | undefined> = [];
    for (let index = 0; index < 3; index += 1) {
      counts.push((await chat("gpt-4o-mini")).usage?.completion_tokens);
    }

    expect(counts).toEqual([2, 2, 16]);
  });

  it("combine in order, later fields winning, and can be removed", async () => {
    fake.addRule({ usage: { outputTokens: 5, reasoningTokens: 2 } });
    const remove = fake.addRule({ usage: { outputTokens: 9 } });
    const combined = await chat("gpt-4o-mini");
    remove();
    const afterRemoval = await chat("gpt-4o-mini");

    expect(combined.usage).toMatchObject({ completion_tokens: 9, completion_tokens_details: { reasoning_tokens: 2 } });
    expect(afterRemoval.usage).toMatchObject({
      completion_tokens: 5,
      completion_tokens_details: { reasoning_tokens: 2 },
    });
  });

  it("apply after per-model overrides, and the x-fake-rule header applies last", async () => {
    fake.addRule({ match: { model: "gpt-4o" }, usage: { inputTokens: 40, outputTokens: 6 } });
    const fromModelAndRule = await chat("gpt-4o");
    const withHeader = await chat("gpt-4o", { headers: fakeRuleHeader({ usage: { outputTokens: 1 } }) });

    // `models["gpt-4o"]` sets 3 cached tokens; the rule sets input and output; the header wins on output.
    expect(fromModelAndRule.usage).toMatchObject({
      prompt_tokens: 40,
      completion_tokens: 6,
      prompt_tokens_details: { cached_tokens: 3 },
    });
    expect(withHeader.usage).toMatchObject({
      prompt_tokens: 40,
      completion_tokens: 1,
      prompt_tokens_details: { cached_tokens: 3 },
    });
    expect(fake.requests[1]?.headers["x-fake-rule"]).toBe('{"usage":{"outputTokens":1}}');
  });

  it("take a fault from the header through the Google SDKs' header options", async () => {
    const genai = new GoogleGenAI({ apiKey: "k", httpOptions: { baseUrl: fake.googleBaseUrl } });
    const legacy = new GoogleGenerativeAI("k").getGenerativeModel(
      { model: "gemini-2.5-flash" },
      { baseUrl: fake.googleBaseUrl, customHeaders: fakeRuleHeader({ fault: { status: 429 } }) },
    );

    await expect(
      genai.models.generateContent({
        model: "gemini-2.5-flash",
        contents: "Hi",
        config: { httpOptions: { headers: fakeRuleHeader({ fault: { status: 503 } }) } },
      }),
    ).rejects.toMatchObject({ status: 503 });
    await expect(legacy.generateContent("Hi")).rejects.toMatchObject({ status: 429 });
    expect(fake.requests.map((request) => request.status)).toEqual([503, 429]);
  });

  it("reject an x-fake-rule header that is not JSON with the provider's 400", async () => {
    const error: unknown = await chat("gpt-4o-mini", { headers: { "x-fake-rule": "{nope" } }).catch(
      (caught: unknown) => caught,
    );

    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(fake.requests[0]).toMatchObject({ status: 400, usage: undefined });
  });

  it("never report totals smaller than their parts", async () => {
    fake.addRule({ usage: { cachedInputTokens: 50, reasoningTokens: 20 } });
    const completion = await chat("gpt-4o-mini");

    expect(completion.usage).toMatchObject({
      prompt_tokens: 50,
      completion_tokens: 20,
      prompt_tokens_details: { cached_tokens: 50 },
    });
    expect(completion.choices[0]?.message.content).toBe("");
  });

  it("from the start survive reset() with their times restored; added rules do not", async () => {
    const log = fake.requests;
    const first = await chat("start-rule-model");
    const second = await chat("start-rule-model");
    fake.addRule({ usage: { outputTokens: 4 } });
    fake.reset();
    const afterReset = await chat("start-rule-model");
    const unaffected = await chat("gpt-4o-mini");

    expect([first, second, afterReset, unaffected].map((completion) => completion.usage?.completion_tokens)).toEqual([
      2, 16, 2, 16,
    ]);
    expect(fake.requests).toBe(log);
    expect(fake.requests.map((request) => request.id)).toEqual([1, 2]);
  });

  it("are all dropped by clearRules(), start rules included", async () => {
    fake.clearRules();
    const completion = await chat("start-rule-model");

    expect(completion.usage?.completion_tokens).toBe(16);
  });
});

describe("server", () => {
  it("uses defaultOutputTokens and binds 127.0.0.1", async () => {
    const custom = await startFakeProviders({ defaultOutputTokens: 3 });
    try {
      const client = new OpenAI({ apiKey: "sk-test", baseURL: custom.openaiBaseURL, maxRetries: 0 });
      const completion = await client.chat.completions.create({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: "Hi" }],
      });

      expect(custom.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(custom.openaiBaseURL).toBe(`${custom.url}/v1`);
      expect(completion.usage?.completion_tokens).toBe(3);
    } finally {
      await custom.close();
    }
  });

  it("answers 404 for unknown paths without logging them", async () => {
    const response = await fetch(`${fake.url}/v2/unknown`, { method: "POST", body: "{}" });

    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { message: "fake providers: no route for POST /v2/unknown" } });
    expect(fake.requests).toHaveLength(0);
  });

  it("answers 400 for a body that is not JSON and logs the raw text", async () => {
    const response = await fetch(`${fake.anthropicBaseURL}/v1/messages`, { method: "POST", body: "not json" });

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    expect(fake.requests[0]).toMatchObject({ operation: "anthropic.messages", body: "not json", status: 400 });
  });

  it("logs requests in arrival order with a live, in-place record", async () => {
    fake.addRule({ match: { model: "slow" }, fault: { latencyMs: 100 } });
    const slow = chat("slow");
    await new Promise((resolve) => setTimeout(resolve, 30));
    const fast = await chat("fast");

    expect(fake.requests.map((request) => [request.model, request.status])).toEqual([
      ["slow", 0],
      ["fast", 200],
    ]);
    expect(fast.usage?.prompt_tokens).toBe(1);
    await slow;
    expect(fake.requests[0]?.status).toBe(200);
    await fake.waitForIdle();
  });
});
