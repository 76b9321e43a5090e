import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeProviders, startFakeProviders } from "../src/index";
import { expectedReply, fromChatUsage, fromResponsesUsage, richUsage, richUsageOnOpenAI } from "./usage-from-wire";

let fake: FakeProviders;
let openai: OpenAI;

beforeAll(async () => {
  fake = await startFakeProviders();
  openai = new OpenAI({ apiKey: "sk-test", baseURL: fake.openaiBaseURL, maxRetries: 0 });
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

// "Be brief." (9) + "Say hello again" (15) = 24 characters → ceil(24 / 4) = 6 input tokens.
const messages: OpenAI.ChatCompletionMessageParam[] = [
  { role: "system", content: "Be brief." },
  { role: "user", content: "Say hello again" },
];

describe("chat completions", () => {
  it("answers JSON with usage derived from the request", async () => {
    const completion = await openai.chat.completions.create({ model: "gpt-4o-mini", messages, max_tokens: 3 });

    expect(completion.choices[0]?.message).toMatchObject({ role: "assistant", content: "w1 w2 w3 " });
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    expect(completion.usage).toMatchObject({ prompt_tokens: 6, completion_tokens: 3, total_tokens: 9 });
    expect(fake.requests[0]).toMatchObject({
      provider: "openai",
      operation: "openai.chat",
      method: "POST",
      path: "/v1/chat/completions",
      model: "gpt-4o-mini",
      stream: false,
      status: 200,
      chunksSent: 0,
      completed: true,
      clientClosedEarly: false,
    });
    expect(fromChatUsage(completion.usage)).toEqual(fake.requests[0]?.usage);
  });

  it("reports cached, cache-write and reasoning tokens a rule configures", async () => {
    fake.addRule({ match: { operation: "openai.chat" }, usage: richUsage });
    const completion = await openai.chat.completions.create({ model: "gpt-4o", messages });

    expect(completion.usage).toEqual({
      prompt_tokens: 1000,
      completion_tokens: 12,
      total_tokens: 1012,
      prompt_tokens_details: { cached_tokens: 600, audio_tokens: 0, cache_write_tokens: 150 },
      completion_tokens_details: {
        reasoning_tokens: 4,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    });
    // Reasoning tokens are billed but not shown: 12 - 4 = 8 visible words.
    expect(completion.choices[0]?.message.content).toBe(expectedReply(8));
    expect(fake.requests[0]?.usage).toEqual(richUsageOnOpenAI);
    expect(fromChatUsage(completion.usage)).toEqual(richUsageOnOpenAI);
  });

  it("streams role, one chunk per token, finish_reason, a usage chunk and [DONE]", async () => {
    const stream = await openai.chat.completions.create({
      model: "gpt-4o-mini",
      messages,
      max_completion_tokens: 2,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
    }

    expect(chunks.map((chunk) => chunk.choices[0]?.delta)).toEqual([
      { role: "assistant", content: "", refusal: null },
      { content: "w1 " },
      { content: "w2 " },
      {},
      undefined,
    ]);
    expect(chunks.map((chunk) => chunk.choices[0]?.finish_reason ?? null)).toEqual([null, null, null, "stop", null]);
    expect(chunks.slice(0, 4).every((chunk) => chunk.usage === null)).toBe(true);
    expect(chunks[4]?.choices).toEqual([]);
    expect(fromChatUsage(chunks[4]?.usage ?? undefined)).toEqual(fake.requests[0]?.usage);
    expect(fake.requests[0]?.usage).toMatchObject({ inputTokens: 6, outputTokens: 2 });
    // Five JSON chunks plus [DONE].
    expect(fake.requests[0]).toMatchObject({ stream: true, chunksSent: 6, completed: true });
  });

  it("reports no usage for a stream without include_usage", async () => {
    const stream = await openai.chat.completions.create({ model: "gpt-4o-mini", messages, stream: true });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
    }

    expect(chunks.some((chunk) => "usage" in chunk)).toBe(false);
    expect(fake.requests[0]?.usage).toBeUndefined();
    expect(fake.requests[0]?.completed).toBe(true);
  });

  it("works with the chat.completions.stream() helper", async () => {
    fake.addRule({ usage: richUsage });
    const runner = openai.chat.completions.stream({
      model: "gpt-4o",
      messages,
      stream_options: { include_usage: true },
    });
    const final = await runner.finalChatCompletion();

    expect(final.choices[0]?.message.content).toBe(expectedReply(8));
    expect(fromChatUsage(final.usage)).toEqual(richUsageOnOpenAI);
    expect(fake.requests[0]?.usage).toEqual(richUsageOnOpenAI);
  });
});

describe("responses", () => {
  it("answers JSON with Responses usage", async () => {
    fake.addRule({ match: { operation: "openai.responses" }, usage: richUsage });
    const response = await openai.responses.create({ model: "gpt-4o", instructions: "Be brief.", input: "Hi" });

    expect(response.output_text).toBe(expectedReply(8));
    expect(response.usage).toEqual({
      input_tokens: 1000,
      input_tokens_details: { cached_tokens: 600, cache_write_tokens: 150 },
      output_tokens: 12,
      output_tokens_details: { reasoning_tokens: 4 },
      total_tokens: 1012,
    });
    expect(fromResponsesUsage(response.usage)).toEqual(fake.requests[0]?.usage);
  });

  it("caps output at max_output_tokens and derives input from instructions and input", async () => {
    // "Be brief." (9) + "Hello there" (11) = 20 characters → 5 input tokens.
    const response = await openai.responses.create({
      model: "gpt-4o",
      instructions: "Be brief.",
      input: [{ role: "user", content: [{ type: "input_text", text: "Hello there" }] }],
      max_output_tokens: 4,
    });

    expect(response.usage).toMatchObject({ input_tokens: 5, output_tokens: 4, total_tokens: 9 });
    expect(response.output_text).toBe(expectedReply(4));
  });

  it("streams the full named-event sequence", async () => {
    const stream = await openai.responses.create({ model: "gpt-4o", input: "Hi", max_output_tokens: 2, stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) {
      events.push(event);
    }

    expect(events.map((event) => event.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(events.map((event) => event.sequence_number)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const completed = events.at(-1);
    expect(completed?.type === "response.completed" && completed.response.usage).toMatchObject({
      input_tokens: 1,
      output_tokens: 2,
    });
    expect(fake.requests[0]).toMatchObject({ chunksSent: 10, completed: true });
  });

  it("works with responses.stream() and finalResponse()", async () => {
    fake.addRule({ usage: richUsage });
    const stream = openai.responses.stream({ model: "gpt-4o", input: "Hi" });
    const deltas: string[] = [];
    stream.on("response.output_text.delta", (event) => deltas.push(event.delta));
    const final = await stream.finalResponse();

    expect(deltas.join("")).toBe(expectedReply(8));
    expect(final.output_text).toBe(expectedReply(8));
    expect(fromResponsesUsage(final.usage)).toEqual(richUsageOnOpenAI);
    expect(fake.requests[0]?.usage).toEqual(richUsageOnOpenAI);
  });
});

describe("embeddings", () => {
  it("returns floats and usage when encoding_format is float", async () => {
    // "abcd" + "efghijkl" = 12 characters → 3 tokens; embeddings have no output.
    const result = await openai.embeddings.create({
      model: "text-embedding-3-small",
      input: ["abcd", "efghijkl"],
      encoding_format: "float",
      dimensions: 4,
    });

    expect(result.data).toHaveLength(2);
    expect(result.data[0]?.embedding).toHaveLength(4);
    expect(result.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
    expect(fake.requests[0]?.usage).toEqual({
      inputTokens: 3,
      cachedInputTokens: 0,
      cacheWriteInputTokens: 0,
      cacheWrite1hInputTokens: 0,
      outputTokens: 0,
      reasoningTokens: 0,
    });
  });

  it("sends base64 Float32 by default, which the SDK decodes to the same vectors", async () => {
    const asFloat = await openai.embeddings.create({
      model: "text-embedding-3-small",
      input: "same text",
      encoding_format: "float",
    });
    const viaBase64 = await openai.embeddings.create({ model: "text-embedding-3-small", input: "same text" });

    expect(fake.requests[1]?.body).toMatchObject({ encoding_format: "base64" });
    expect(viaBase64.data[0]?.embedding).toEqual(asFloat.data[0]?.embedding);
    expect(viaBase64.data[0]?.embedding).toHaveLength(8);
  });
});

describe("models", () => {
  it("lists the default and configured models and retrieves one", async () => {
    const custom = await startFakeProviders({ models: { "ft:gpt-4o:acme": { outputTokens: 1 } } });
    try {
      const client = new OpenAI({ apiKey: "sk-test", baseURL: custom.openaiBaseURL, maxRetries: 0 });
      const ids: string[] = [];
      for await (const model of client.models.list()) {
        ids.push(model.id);
      }
      const retrieved = await client.models.retrieve("gpt-4o");

      expect(ids).toEqual(["gpt-4o-mini", "gpt-4o", "text-embedding-3-small", "ft:gpt-4o:acme"]);
      expect(retrieved).toMatchObject({ id: "gpt-4o", object: "model" });
      expect(custom.requests.map((request) => [request.operation, request.model, request.usage])).toEqual([
        ["openai.models", undefined, undefined],
        ["openai.models", "gpt-4o", undefined],
      ]);
    } finally {
      await custom.close();
    }
  });
});

describe("aborts", () => {
  it("logs clientClosedEarly when the caller breaks out of a stream", async () => {
    fake.addRule({ fault: { chunkDelayMs: 15 } });
    const stream = await openai.chat.completions.create({ model: "gpt-4o-mini", messages, stream: true });
    let received = 0;
    for await (const _chunk of stream) {
      received += 1;
      if (received === 2) {
        break;
      }
    }
    await fake.waitForIdle();

    expect(fake.requests[0]).toMatchObject({ clientClosedEarly: true, completed: false, usage: undefined });
    expect(fake.requests[0]?.chunksSent).toBeLessThan(19);
  });

  it("logs clientClosedEarly when the caller aborts through stream.controller", async () => {
    fake.addRule({ fault: { chunkDelayMs: 15 } });
    const stream = await openai.chat.completions.create({
      model: "gpt-4o-mini",
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let received = 0;
    // The SDK ends the loop silently on abort, without throwing.
    for await (const _chunk of stream) {
      received += 1;
      if (received === 1) {
        stream.controller.abort();
      }
    }
    await fake.waitForIdle();

    expect(received).toBe(1);
    expect(fake.requests[0]).toMatchObject({ clientClosedEarly: true, completed: false, usage: undefined });
  });

  it("logs clientClosedEarly when a signal aborts during the latency before the headers", async () => {
    fake.addRule({ fault: { latencyMs: 5_000 } });
    const controller = new AbortController();
    const pending = openai.chat.completions.create({ model: "gpt-4o-mini", messages }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 30);

    await expect(pending).rejects.toBeInstanceOf(OpenAI.APIUserAbortError);
    await fake.waitForIdle();
    expect(fake.requests[0]).toMatchObject({ status: 0, clientClosedEarly: true, completed: false });
  });
});
