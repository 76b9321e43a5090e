import { ApiError, GoogleGenAI } from "@google/genai";
import { GoogleGenerativeAI, GoogleGenerativeAIFetchError } from "@google/generative-ai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeProviders, startFakeProviders } from "../src/index";
import { expectedReply, fromGeminiUsage, richUsage, richUsageOnGemini } from "./usage-from-wire";

let fake: FakeProviders;
let genai: GoogleGenAI;
let legacy: GoogleGenerativeAI;

beforeAll(async () => {
  fake = await startFakeProviders();
  genai = new GoogleGenAI({ apiKey: "k", httpOptions: { baseUrl: fake.googleBaseUrl } });
  legacy = new GoogleGenerativeAI("k");
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const model = "gemini-2.5-flash";
// "Tell me something" is 17 characters → ceil(17 / 4) = 5 input tokens.
const prompt = "Tell me something";

function legacyModel() {
  return legacy.getGenerativeModel({ model }, { baseUrl: fake.googleBaseUrl });
}

describe("@google/genai", () => {
  it("answers generateContent with usageMetadata; config.maxOutputTokens caps output", async () => {
    const response = await genai.models.generateContent({ model, contents: prompt, config: { maxOutputTokens: 3 } });

    expect(response.text).toBe(expectedReply(3));
    expect(response.candidates?.[0]?.finishReason).toBe("STOP");
    expect(response.usageMetadata).toEqual({ promptTokenCount: 5, candidatesTokenCount: 3, totalTokenCount: 8 });
    expect(fake.requests[0]).toMatchObject({
      provider: "google",
      operation: "google.generateContent",
      path: `/v1beta/models/${model}:generateContent`,
      model,
      stream: false,
      body: { generationConfig: { maxOutputTokens: 3 } },
    });
    expect(fromGeminiUsage(response.usageMetadata)).toEqual(fake.requests[0]?.usage);
  });

  it("reports cached and thoughts tokens; cache writes stay inside promptTokenCount", async () => {
    fake.addRule({ match: { provider: "google" }, usage: richUsage });
    const response = await genai.models.generateContent({ model, contents: prompt });

    expect(response.usageMetadata).toEqual({
      promptTokenCount: 1000,
      cachedContentTokenCount: 600,
      candidatesTokenCount: 8,
      thoughtsTokenCount: 4,
      totalTokenCount: 1012,
    });
    expect(fake.requests[0]?.usage).toEqual(richUsageOnGemini);
    expect(fromGeminiUsage(response.usageMetadata)).toEqual(richUsageOnGemini);
  });

  it("streams one chunk per token with running usage totals", async () => {
    fake.addRule({ usage: richUsage });
    const stream = await genai.models.generateContentStream({ model, contents: prompt });
    const texts: string[] = [];
    const candidateCounts: Array<number | undefined> = [];
    let last: Awaited<ReturnType<typeof genai.models.generateContent>> | undefined;
    for await (const chunk of stream) {
      texts.push(chunk.text ?? "");
      candidateCounts.push(chunk.usageMetadata?.candidatesTokenCount);
      last = chunk;
    }

    expect(texts).toEqual(["w1 ", "w2 ", "w3 ", "w4 ", "w5 ", "w6 ", "w7 ", "w8 "]);
    expect(candidateCounts).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(last?.candidates?.[0]?.finishReason).toBe("STOP");
    expect(fromGeminiUsage(last?.usageMetadata)).toEqual(richUsageOnGemini);
    expect(fake.requests[0]).toMatchObject({
      operation: "google.streamGenerateContent",
      query: { alt: "sse" },
      stream: true,
      chunksSent: 8,
      completed: true,
      usage: richUsageOnGemini,
    });
  });

  it("works with chats.create().sendMessage, sending the history as input", async () => {
    const chat = genai.chats.create({ model });
    const first = await chat.sendMessage({ message: "Hello" });
    const second = await chat.sendMessage({ message: "Again" });

    expect(first.text).toBe(expectedReply(16));
    // The second turn sends "Hello", the model's reply and "Again".
    const secondInput = Math.ceil(("Hello".length + expectedReply(16).length + "Again".length) / 4);
    expect(second.usageMetadata?.promptTokenCount).toBe(secondInput);
    expect(fake.requests[1]?.usage?.inputTokens).toBe(secondInput);
  });

  it("works with chats sendMessageStream", async () => {
    const chat = genai.chats.create({ model, config: { maxOutputTokens: 2 } });
    const stream = await chat.sendMessageStream({ message: "Hello" });
    const texts: string[] = [];
    for await (const chunk of stream) {
      texts.push(chunk.text ?? "");
    }

    expect(texts).toEqual(["w1 ", "w2 "]);
    // genai records model output only for a valid, finished stream, one history entry per chunk.
    const history = chat.getHistory();
    expect(history.map((content) => content.role)).toEqual(["user", "model", "model"]);
    expect(
      history
        .flatMap((content) => (content.role === "model" ? (content.parts ?? []) : []))
        .map((part) => part.text)
        .join(""),
    ).toBe("w1 w2 ");
    expect(fake.requests[0]?.usage).toMatchObject({ inputTokens: 2, outputTokens: 2 });
  });

  it("embeds through :batchEmbedContents, reporting no usage", async () => {
    const result = await genai.models.embedContent({
      model: "gemini-embedding-001",
      contents: ["first", "second"],
      config: { outputDimensionality: 4 },
    });

    expect(result.embeddings?.map((embedding) => embedding.values?.length)).toEqual([4, 4]);
    expect(fake.requests[0]).toMatchObject({
      operation: "google.embedContent",
      path: "/v1beta/models/gemini-embedding-001:batchEmbedContents",
      usage: undefined,
    });
  });

  it("counts tokens", async () => {
    const count = await genai.models.countTokens({ model, contents: prompt });

    expect(count.totalTokens).toBe(5);
    expect(fake.requests[0]).toMatchObject({ operation: "google.countTokens", usage: undefined });
  });

  it("surfaces a 429 as ApiError with Google's RESOURCE_EXHAUSTED body", async () => {
    fake.addRule({ fault: { status: 429 } });
    const error: unknown = await genai.models
      .generateContent({ model, contents: prompt })
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(429);
    expect(JSON.parse((error as ApiError).message)).toMatchObject({
      error: { code: 429, status: "RESOURCE_EXHAUSTED" },
    });
  });

  it("logs clientClosedEarly when the abort signal fires mid-stream", async () => {
    fake.addRule({ fault: { chunkDelayMs: 15 } });
    const controller = new AbortController();
    const stream = await genai.models.generateContentStream({
      model,
      contents: prompt,
      config: { abortSignal: controller.signal },
    });
    const consume = async () => {
      for await (const _chunk of stream) {
        controller.abort();
      }
    };

    // genai throws on abort, unlike the Stainless SDKs.
    await expect(consume()).rejects.toThrow();
    await fake.waitForIdle();
    expect(fake.requests[0]).toMatchObject({ clientClosedEarly: true, completed: false, usage: undefined });
  });
});

describe("@google/generative-ai (legacy)", () => {
  it("answers generateContent", async () => {
    const result = await legacyModel().generateContent({
      contents: [{ role: "user", parts: [{ text: prompt }] }],
      generationConfig: { maxOutputTokens: 4 },
    });

    expect(result.response.text()).toBe(expectedReply(4));
    expect(result.response.usageMetadata).toEqual({ promptTokenCount: 5, candidatesTokenCount: 4, totalTokenCount: 9 });
    expect(fromGeminiUsage(result.response.usageMetadata)).toEqual(fake.requests[0]?.usage);
  });

  it("streams, and aggregates the final usage in .response", async () => {
    fake.addRule({ usage: richUsage });
    const result = await legacyModel().generateContentStream(prompt);
    const texts: string[] = [];
    for await (const chunk of result.stream) {
      texts.push(chunk.text());
    }
    const aggregated = await result.response;

    expect(texts.join("")).toBe(expectedReply(8));
    expect(fromGeminiUsage(aggregated.usageMetadata)).toEqual(richUsageOnGemini);
    expect(fake.requests[0]?.usage).toEqual(richUsageOnGemini);
  });

  it("works with startChat sendMessage and sendMessageStream", async () => {
    const chat = legacyModel().startChat();
    const first = await chat.sendMessage("Hello");
    const streamed = await chat.sendMessageStream("Again");
    const texts: string[] = [];
    for await (const chunk of streamed.stream) {
      texts.push(chunk.text());
    }
    await streamed.response;

    expect(first.response.text()).toBe(expectedReply(16));
    expect(texts.join("")).toBe(expectedReply(16));
    const secondInput = Math.ceil(("Hello".length + expectedReply(16).length + "Again".length) / 4);
    expect(fake.requests.map((request) => [request.operation, request.usage?.inputTokens])).toEqual([
      ["google.generateContent", 2],
      ["google.streamGenerateContent", secondInput],
    ]);
  });

  it("counts tokens through its generateContentRequest wrapper", async () => {
    const count = await legacyModel().countTokens(prompt);

    expect(count.totalTokens).toBe(5);
    expect(fake.requests[0]?.body).toHaveProperty("generateContentRequest");
  });

  it("embeds through :embedContent", async () => {
    const result = await legacyModel().embedContent("some text");

    expect(result.embedding.values).toHaveLength(8);
    expect(fake.requests[0]).toMatchObject({
      operation: "google.embedContent",
      path: `/v1beta/models/${model}:embedContent`,
    });
  });

  it("surfaces a 500 as GoogleGenerativeAIFetchError", async () => {
    fake.addRule({ fault: { status: 500 } });
    const error: unknown = await legacyModel()
      .generateContent(prompt)
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(GoogleGenerativeAIFetchError);
    expect((error as GoogleGenerativeAIFetchError).status).toBe(500);
  });
});
