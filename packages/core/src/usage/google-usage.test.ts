import { describe, expect, it } from "vitest";
import { googleEmbedContentUsageReader, googleGenerateContentUsageReader, googleUsage } from "./google-usage";

describe("googleUsage", () => {
  it("adds thoughts to candidates and tool-use prompt tokens to the prompt", () => {
    expect(
      googleUsage({
        promptTokenCount: 1200,
        cachedContentTokenCount: 1024,
        candidatesTokenCount: 50,
        thoughtsTokenCount: 37,
        toolUsePromptTokenCount: 10,
        totalTokenCount: 1297,
        promptTokensDetails: [{ modality: "TEXT", tokenCount: 1200 }],
        cacheTokensDetails: [{ modality: "TEXT", tokenCount: 1024 }],
      }),
    ).toStrictEqual({
      inputTokens: 1210,
      cachedInputTokens: 1024,
      outputTokens: 87,
      reasoningTokens: 37,
    });
  });

  it("reads omitted (proto3 zero) output counts as zero, and a missing prompt count as unknown", () => {
    expect(googleUsage({ promptTokenCount: 8, totalTokenCount: 8 })).toStrictEqual({ inputTokens: 8, outputTokens: 0 });
    expect(googleUsage({ candidatesTokenCount: 4, totalTokenCount: 4 })).toStrictEqual({
      inputTokens: undefined,
      outputTokens: 4,
    });
    expect(googleUsage({ promptTokenCount: 8, candidatesTokenCount: 3 })).toStrictEqual({
      inputTokens: 8,
      outputTokens: 3,
    });
  });

  it("is undefined when there is no usage object or no count in it", () => {
    expect(googleUsage(undefined)).toBeUndefined();
    expect(googleUsage({})).toBeUndefined();
    expect(googleUsage({ trafficType: "ON_DEMAND" })).toBeUndefined();
  });
});

describe("googleGenerateContentUsageReader.readBody", () => {
  it("reads usage and counts text (thoughts included), function-call args and code", () => {
    const reading = googleGenerateContentUsageReader.readBody({
      candidates: [
        {
          content: {
            role: "model",
            parts: [
              { text: "Pondering…", thought: true },
              { text: "Bonjour 🌍" },
              { functionCall: { name: "lookup", args: { id: 7 } } },
              { executableCode: { language: "PYTHON", code: "print(1)" } },
            ],
          },
          finishReason: "STOP",
          index: 0,
        },
      ],
      usageMetadata: { promptTokenCount: 20, candidatesTokenCount: 30, thoughtsTokenCount: 5, totalTokenCount: 55 },
      modelVersion: "gemini-2.5-flash",
      responseId: "r1",
    });
    expect(reading).toStrictEqual({
      usage: { inputTokens: 20, outputTokens: 35, reasoningTokens: 5 },
      final: true,
      outputCharacters: "Pondering…".length + "Bonjour 🌍".length + '{"id":7}'.length + "print(1)".length,
    });
  });

  it("reads a blocked prompt's usage", () => {
    expect(
      googleGenerateContentUsageReader.readBody({
        promptFeedback: { blockReason: "SAFETY" },
        usageMetadata: { promptTokenCount: 9, totalTokenCount: 9 },
      }),
    ).toStrictEqual({ usage: { inputTokens: 9, outputTokens: 0 }, final: true, outputCharacters: 0 });
  });

  it("reads a JSON array of chunks (streamGenerateContent without alt=sse): the last usage wins", () => {
    const reading = googleGenerateContentUsageReader.readBody([
      { candidates: [{ content: { parts: [{ text: "ab" }] } }], usageMetadata: { promptTokenCount: 4 } },
      {
        candidates: [{ content: { parts: [{ text: "cd" }] }, finishReason: "STOP" }],
        usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 2, totalTokenCount: 6 },
      },
    ]);
    expect(reading).toStrictEqual({ usage: { inputTokens: 4, outputTokens: 2 }, final: true, outputCharacters: 4 });
  });

  it("finds no usage in an error body", () => {
    expect(
      googleGenerateContentUsageReader.readBody({ error: { code: 429, message: "x", status: "RESOURCE_EXHAUSTED" } }),
    ).toStrictEqual({ usage: undefined, final: false, outputCharacters: 0 });
  });
});

describe("googleEmbedContentUsageReader.readBody", () => {
  it("has no usage for the Gemini API, which reports none", () => {
    expect(googleEmbedContentUsageReader.readBody({ embeddings: [{ values: [0.1, 0.2] }] })).toStrictEqual({
      usage: undefined,
      final: false,
      outputCharacters: 0,
    });
  });

  it("reads Vertex usageMetadata and predict statistics", () => {
    expect(
      googleEmbedContentUsageReader.readBody({
        embedding: { values: [0.1] },
        usageMetadata: { promptTokenCount: 6, totalTokenCount: 6 },
      }).usage,
    ).toStrictEqual({ inputTokens: 6, outputTokens: 0 });
    expect(
      googleEmbedContentUsageReader.readBody({
        predictions: [
          { embeddings: { values: [0.1], statistics: { truncated: false, token_count: 6 } } },
          { embeddings: { values: [0.2], statistics: { truncated: false, token_count: 4 } } },
        ],
      }).usage,
    ).toStrictEqual({ inputTokens: 10, outputTokens: 0 });
  });
});
