import { describe, expect, it } from "vitest";
import {
  openAiChatUsage,
  openAiChatUsageReader,
  openAiEmbeddingsUsage,
  openAiEmbeddingsUsageReader,
  openAiResponsesUsage,
  openAiResponsesUsageReader,
} from "./openai-usage";

describe("openAiChatUsage", () => {
  it("keeps the inclusive totals and reads the cache and reasoning parts", () => {
    expect(
      openAiChatUsage({
        prompt_tokens: 2006,
        completion_tokens: 300,
        total_tokens: 2306,
        prompt_tokens_details: { cached_tokens: 1920, cache_write_tokens: 64, audio_tokens: 0 },
        completion_tokens_details: {
          reasoning_tokens: 192,
          audio_tokens: 0,
          accepted_prediction_tokens: 0,
          rejected_prediction_tokens: 0,
        },
      }),
    ).toStrictEqual({
      inputTokens: 2006,
      cachedInputTokens: 1920,
      cacheWriteInputTokens: 64,
      outputTokens: 300,
      reasoningTokens: 192,
    });
  });

  it("leaves parts the API did not report out, and zero parts in", () => {
    expect(openAiChatUsage({ prompt_tokens: 9, completion_tokens: 12, total_tokens: 21 })).toStrictEqual({
      inputTokens: 9,
      outputTokens: 12,
    });
    expect(
      openAiChatUsage({ prompt_tokens: 9, completion_tokens: 0, prompt_tokens_details: { cached_tokens: 0 } }),
    ).toStrictEqual({ inputTokens: 9, cachedInputTokens: 0, outputTokens: 0 });
  });

  it("treats null, wrong types and negative counts as unknown", () => {
    expect(openAiChatUsage(null)).toBeUndefined();
    expect(openAiChatUsage("12")).toBeUndefined();
    expect(openAiChatUsage({})).toBeUndefined();
    expect(
      openAiChatUsage({
        prompt_tokens: "9",
        completion_tokens: 4,
        prompt_tokens_details: null,
        completion_tokens_details: 1,
      }),
    ).toStrictEqual({ inputTokens: undefined, outputTokens: 4 });
    expect(openAiChatUsage({ prompt_tokens: -1, completion_tokens: Number.NaN })).toBeUndefined();
  });
});

describe("openAiResponsesUsage", () => {
  it("reads input/output totals with cached, cache-write and reasoning parts", () => {
    expect(
      openAiResponsesUsage({
        input_tokens: 5000,
        input_tokens_details: { cached_tokens: 4096, cache_write_tokens: 0 },
        output_tokens: 900,
        output_tokens_details: { reasoning_tokens: 512 },
        total_tokens: 5900,
      }),
    ).toStrictEqual({
      inputTokens: 5000,
      cachedInputTokens: 4096,
      cacheWriteInputTokens: 0,
      outputTokens: 900,
      reasoningTokens: 512,
    });
  });
});

describe("openAiEmbeddingsUsage", () => {
  it("counts prompt tokens in and nothing out", () => {
    expect(openAiEmbeddingsUsage({ prompt_tokens: 8, total_tokens: 8 })).toStrictEqual({
      inputTokens: 8,
      outputTokens: 0,
    });
    expect(openAiEmbeddingsUsage({ total_tokens: 8 })).toBeUndefined();
  });
});

describe("OpenAI body readers", () => {
  it("chat: usage is final, output characters count content, refusal and tool arguments", () => {
    const reading = openAiChatUsageReader.readBody({
      id: "chatcmpl-1",
      object: "chat.completion",
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: "Hi 👋",
            refusal: null,
            tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: '{"a":1}' } }],
          },
          finish_reason: "tool_calls",
        },
        { index: 1, message: { role: "assistant", content: null, refusal: "No." }, finish_reason: "stop" },
      ],
      usage: { prompt_tokens: 10, completion_tokens: 20, total_tokens: 30 },
    });
    expect(reading).toStrictEqual({
      usage: { inputTokens: 10, outputTokens: 20 },
      final: true,
      outputCharacters: "Hi 👋".length + '{"a":1}'.length + "No.".length,
    });
  });

  it("chat: an error body or a non-JSON body has no usage", () => {
    expect(openAiChatUsageReader.readBody({ error: { message: "x", type: "server_error" } })).toStrictEqual({
      usage: undefined,
      final: false,
      outputCharacters: 0,
    });
    expect(openAiChatUsageReader.readBody(undefined).usage).toBeUndefined();
  });

  it("responses: reads usage and the text of message, reasoning and function-call items", () => {
    const reading = openAiResponsesUsageReader.readBody({
      id: "resp_1",
      object: "response",
      status: "incomplete",
      output: [
        { type: "reasoning", id: "rs_1", summary: [{ type: "summary_text", text: "Thinking…" }] },
        {
          type: "message",
          id: "msg_1",
          role: "assistant",
          content: [{ type: "output_text", text: "Hello", annotations: [] }],
        },
        { type: "function_call", id: "fc_1", call_id: "c", name: "f", arguments: '{"q":"x"}' },
      ],
      usage: {
        input_tokens: 30,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 64,
        output_tokens_details: { reasoning_tokens: 40 },
        total_tokens: 94,
      },
    });
    expect(reading).toStrictEqual({
      usage: { inputTokens: 30, cachedInputTokens: 0, outputTokens: 64, reasoningTokens: 40 },
      final: true,
      outputCharacters: "Thinking…".length + "Hello".length + '{"q":"x"}'.length,
    });
  });

  it("embeddings: usage with zero output", () => {
    expect(
      openAiEmbeddingsUsageReader.readBody({
        object: "list",
        data: [{ object: "embedding", index: 0, embedding: "AAAAAA==" }],
        model: "text-embedding-3-small",
        usage: { prompt_tokens: 5, total_tokens: 5 },
      }),
    ).toStrictEqual({ usage: { inputTokens: 5, outputTokens: 0 }, final: true, outputCharacters: 0 });
  });
});
