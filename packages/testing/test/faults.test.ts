import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import { GoogleGenerativeAI, GoogleGenerativeAIError } from "@google/generative-ai";
import OpenAI, { type APIError } from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeProviders, startFakeProviders } from "../src/index";

let fake: FakeProviders;
let openai: OpenAI;
let anthropic: Anthropic;
let genai: GoogleGenAI;

beforeAll(async () => {
  fake = await startFakeProviders();
  // Malformed chunks make the Stainless SDKs log the bad line before throwing; keep test output clean.
  openai = new OpenAI({ apiKey: "sk-test", baseURL: fake.openaiBaseURL, maxRetries: 0, logLevel: "off" });
  anthropic = new Anthropic({ apiKey: "k", baseURL: fake.anthropicBaseURL, maxRetries: 0, logLevel: "off" });
  genai = new GoogleGenAI({ apiKey: "k", httpOptions: { baseUrl: fake.googleBaseUrl } });
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const chatRequest = {
  model: "gpt-4o-mini",
  messages: [{ role: "user" as const, content: "Hi" }],
  max_tokens: 3,
};
const anthropicRequest = {
  model: "claude-haiku-4-5",
  max_tokens: 3,
  messages: [{ role: "user" as const, content: "Hi" }],
};
const geminiModel = "gemini-2.5-flash";

async function drain(iterable: AsyncIterable<unknown>): Promise<number> {
  let count = 0;
  for await (const _item of iterable) {
    count += 1;
  }
  return count;
}

describe("latencyMs", () => {
  it("delays the response headers", async () => {
    fake.addRule({ fault: { latencyMs: 150 } });
    const startedAt = performance.now();
    const completion = await openai.chat.completions.create(chatRequest);

    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(145);
    expect(completion.choices[0]?.message.content).toBe("w1 w2 w3 ");
  });
});

describe("chunkDelayMs", () => {
  it("spaces out the chunks of a stream", async () => {
    fake.addRule({ fault: { chunkDelayMs: 25 } });
    const startedAt = performance.now();
    const stream = await anthropic.messages.create({ ...anthropicRequest, stream: true });
    const arrivals: number[] = [];
    for await (const _event of stream) {
      arrivals.push(performance.now());
    }

    // message_start, content_block_start, ping, 3 deltas, content_block_stop, message_delta, message_stop:
    // 9 chunks, so 8 delays of 25 ms.
    expect(fake.requests[0]?.chunksSent).toBe(9);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(195);
    expect(arrivals).toHaveLength(8);
    expect(fake.requests[0]?.completed).toBe(true);
  });
});

describe("cutAfterChunks", () => {
  it("drops an OpenAI stream: the SDK throws and no usage is logged", async () => {
    fake.addRule({ fault: { cutAfterChunks: 3 } });
    const stream = await openai.chat.completions.create({
      ...chatRequest,
      stream: true,
      stream_options: { include_usage: true },
    });
    const received: string[] = [];
    const consume = async () => {
      for await (const chunk of stream) {
        received.push(chunk.choices[0]?.delta.content ?? "");
      }
    };

    await expect(consume()).rejects.toThrow();
    await fake.waitForIdle();
    expect(received).toEqual(["", "w1 ", "w2 "]);
    expect(fake.requests[0]).toMatchObject({
      chunksSent: 3,
      completed: false,
      clientClosedEarly: false,
      usage: undefined,
    });
  });

  it("drops an Anthropic stream: finalMessage() rejects", async () => {
    fake.addRule({ fault: { cutAfterChunks: 4 } });
    const stream = anthropic.messages.stream(anthropicRequest);

    await expect(stream.finalMessage()).rejects.toThrow();
    await fake.waitForIdle();
    expect(fake.requests[0]).toMatchObject({ chunksSent: 4, completed: false, usage: undefined });
  });

  it("drops a Gemini stream for both Google SDKs", async () => {
    fake.addRule({ match: { provider: "google" }, fault: { cutAfterChunks: 1 } });
    const stream = await genai.models.generateContentStream({ model: geminiModel, contents: "Hi" });
    await expect(drain(stream)).rejects.toThrow();

    const legacy = new GoogleGenerativeAI("k").getGenerativeModel(
      { model: geminiModel },
      { baseUrl: fake.googleBaseUrl },
    );
    const result = await legacy.generateContentStream("Hi");
    await expect(drain(result.stream)).rejects.toBeInstanceOf(GoogleGenerativeAIError);
    await expect(result.response).rejects.toBeInstanceOf(GoogleGenerativeAIError);

    await fake.waitForIdle();
    expect(fake.requests.map((request) => [request.chunksSent, request.completed, request.usage])).toEqual([
      [1, false, undefined],
      [1, false, undefined],
    ]);
  });

  it("with 0 sends only the headers", async () => {
    fake.addRule({ fault: { cutAfterChunks: 0 } });
    const stream = await openai.chat.completions.create({ ...chatRequest, stream: true });

    await expect(drain(stream)).rejects.toThrow();
    expect(fake.requests[0]).toMatchObject({ status: 200, chunksSent: 0, completed: false });
  });
});

describe("status, retry-after and x-should-retry", () => {
  it("answers 429 with OpenAI's error body and a retry-after header", async () => {
    fake.addRule({ fault: { status: 429, retryAfterSeconds: 7 } });
    const error: unknown = await openai.chat.completions.create(chatRequest).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as APIError).headers?.get("retry-after")).toBe("7");
    expect((error as APIError).code).toBe("rate_limit_exceeded");
    expect(fake.requests[0]).toMatchObject({ status: 429, usage: undefined, completed: true });
  });

  it("is retried by the SDK, which shows up as two requests", async () => {
    fake.addRule({ fault: { status: 429, retryAfterSeconds: 0 }, times: 1 });
    const client = new OpenAI({ apiKey: "sk-test", baseURL: fake.openaiBaseURL, maxRetries: 1 });
    const completion = await client.chat.completions.create(chatRequest);

    expect(completion.usage?.completion_tokens).toBe(3);
    expect(fake.requests.map((request) => [request.status, request.headers["x-stainless-retry-count"]])).toEqual([
      [429, "0"],
      [200, "1"],
    ]);
    expect(fake.requests.map((request) => request.usage?.outputTokens)).toEqual([undefined, 3]);
  });

  it("answers 500 with a server_error body", async () => {
    fake.addRule({ fault: { status: 500 } });
    const error: unknown = await openai.chat.completions.create(chatRequest).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect((error as APIError).type).toBe("server_error");
  });

  it("stops SDK retries with x-should-retry: false", async () => {
    fake.addRule({ fault: { status: 503, shouldRetry: false } });
    const client = new OpenAI({ apiKey: "sk-test", baseURL: fake.openaiBaseURL, maxRetries: 2 });
    const error: unknown = await client.chat.completions.create(chatRequest).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect((error as APIError).headers?.get("x-should-retry")).toBe("false");
    expect(fake.requests).toHaveLength(1);
  });

  it("forces a retry of a 400 with x-should-retry: true", async () => {
    fake.addRule({ fault: { status: 400, shouldRetry: true, retryAfterSeconds: 0.01 }, times: 1 });
    const client = new Anthropic({ apiKey: "k", baseURL: fake.anthropicBaseURL, maxRetries: 1 });
    await client.messages.create(anthropicRequest);

    expect(fake.requests.map((request) => request.status)).toEqual([400, 200]);
  });
});

describe("omitUsage", () => {
  it("drops usage from OpenAI JSON and streams", async () => {
    fake.addRule({ fault: { omitUsage: true } });
    const completion = await openai.chat.completions.create(chatRequest);
    const runner = openai.chat.completions.stream({ ...chatRequest, stream_options: { include_usage: true } });
    const streamed = await runner.finalChatCompletion();
    const response = await openai.responses.create({ model: "gpt-4o", input: "Hi" });

    expect(completion.usage).toBeUndefined();
    expect(completion.choices[0]?.message.content).toBe("w1 w2 w3 ");
    expect(streamed.usage).toBeUndefined();
    expect(streamed.choices[0]?.message.content).toBe("w1 w2 w3 ");
    expect(response.usage).toBeNull();
    expect(fake.requests.map((request) => [request.completed, request.usage])).toEqual([
      [true, undefined],
      [true, undefined],
      [true, undefined],
    ]);
  });

  it("drops usage from Anthropic messages and events", async () => {
    fake.addRule({ fault: { omitUsage: true } });
    const message = await anthropic.messages.create(anthropicRequest);
    const stream = await anthropic.messages.create({ ...anthropicRequest, stream: true });
    const events: Anthropic.RawMessageStreamEvent[] = [];
    for await (const event of stream) {
      events.push(event);
    }

    expect(message.usage).toBeUndefined();
    expect(
      events.some((event) => "usage" in event || (event.type === "message_start" && "usage" in event.message)),
    ).toBe(false);
    expect(fake.requests.map((request) => request.usage)).toEqual([undefined, undefined]);
  });

  it("drops usageMetadata from Gemini responses", async () => {
    fake.addRule({ fault: { omitUsage: true } });
    const response = await genai.models.generateContent({ model: geminiModel, contents: "Hi" });
    const stream = await genai.models.generateContentStream({ model: geminiModel, contents: "Hi" });
    const chunks: Array<{ usageMetadata?: unknown }> = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
    }

    expect(response.usageMetadata).toBeUndefined();
    expect(response.text).toBe("w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 ");
    expect(chunks.every((chunk) => chunk.usageMetadata === undefined)).toBe(true);
    expect(fake.requests.map((request) => request.usage)).toEqual([undefined, undefined]);
  });
});

describe("malformedStream", () => {
  it("makes the OpenAI SDK throw a JSON parse error", async () => {
    fake.addRule({ fault: { malformedStream: true } });
    const stream = await openai.chat.completions.create({ ...chatRequest, stream: true });

    await expect(drain(stream)).rejects.toBeInstanceOf(SyntaxError);
  });

  it("makes the Anthropic SDK throw (the bad line is a named event)", async () => {
    fake.addRule({ fault: { malformedStream: true } });
    const stream = await anthropic.messages.create({ ...anthropicRequest, stream: true });

    await expect(drain(stream)).rejects.toBeInstanceOf(SyntaxError);
  });

  it("makes both Google SDKs throw", async () => {
    fake.addRule({ fault: { malformedStream: true } });
    const stream = await genai.models.generateContentStream({ model: geminiModel, contents: "Hi" });
    await expect(drain(stream)).rejects.toThrow();

    const legacy = new GoogleGenerativeAI("k").getGenerativeModel(
      { model: geminiModel },
      { baseUrl: fake.googleBaseUrl },
    );
    const result = await legacy.generateContentStream("Hi");
    await expect(drain(result.stream)).rejects.toThrow("Error parsing JSON response");
    await result.response.catch(() => undefined);
  });

  it("is counted as a chunk in the log", async () => {
    fake.addRule({ fault: { malformedStream: true } });
    const response = await fetch(`${fake.openaiBaseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...chatRequest, stream: true }),
    });
    const text = await response.text();

    // role chunk, malformed line, 3 words, finish_reason chunk, [DONE].
    expect(text.split("\n\n").filter(Boolean)[1]).toBe('data: {"malformed": this is not JSON');
    expect(fake.requests[0]).toMatchObject({ chunksSent: 7, completed: true });
  });
});
