import { describe, expect, it } from "vitest";
import { anthropicMessagesUsageReader, anthropicUsage } from "./anthropic-usage";

describe("anthropicUsage", () => {
  it("adds the cache parts to input_tokens and splits cache writes by TTL", () => {
    expect(
      anthropicUsage({
        input_tokens: 600,
        cache_creation_input_tokens: 300,
        cache_read_input_tokens: 100,
        cache_creation: { ephemeral_5m_input_tokens: 200, ephemeral_1h_input_tokens: 100 },
        output_tokens: 50,
        output_tokens_details: null,
        server_tool_use: null,
        service_tier: "standard",
        inference_geo: null,
        speed: null,
      }),
    ).toStrictEqual({
      inputTokens: 1000,
      cachedInputTokens: 100,
      cacheWriteInputTokens: 200,
      cacheWrite1hInputTokens: 100,
      outputTokens: 50,
    });
  });

  it("counts all cache creation as 5-minute writes when the breakdown is absent", () => {
    expect(
      anthropicUsage({
        input_tokens: 10,
        cache_creation_input_tokens: 2000,
        cache_read_input_tokens: 0,
        output_tokens: 5,
      }),
    ).toStrictEqual({ inputTokens: 2010, cachedInputTokens: 0, cacheWriteInputTokens: 2000, outputTokens: 5 });
  });

  it("keeps the parts adding up to a later cache-creation total than the breakdown's", () => {
    expect(
      anthropicUsage({
        input_tokens: 1,
        cache_creation_input_tokens: 900,
        cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 600 },
        output_tokens: 1,
      }),
    ).toMatchObject({ inputTokens: 901, cacheWriteInputTokens: 300, cacheWrite1hInputTokens: 600 });
    expect(
      anthropicUsage({
        input_tokens: 1,
        cache_creation: { ephemeral_5m_input_tokens: 40, ephemeral_1h_input_tokens: 60 },
        output_tokens: 1,
      }),
    ).toMatchObject({ inputTokens: 101, cacheWriteInputTokens: 40, cacheWrite1hInputTokens: 60 });
  });

  it("reads thinking tokens when the API reports them, and leaves them unknown otherwise", () => {
    expect(anthropicUsage({ input_tokens: 3, output_tokens: 700 })).toStrictEqual({
      inputTokens: 3,
      outputTokens: 700,
    });
    expect(
      anthropicUsage({ input_tokens: 3, output_tokens: 700, output_tokens_details: { thinking_tokens: 650 } }),
    ).toStrictEqual({ inputTokens: 3, outputTokens: 700, reasoningTokens: 650 });
  });

  it("leaves the input unknown when input_tokens is, whatever the cache fields say", () => {
    expect(anthropicUsage({ input_tokens: null, cache_read_input_tokens: 5, output_tokens: 9 })).toStrictEqual({
      inputTokens: undefined,
      cachedInputTokens: 5,
      outputTokens: 9,
    });
    expect(anthropicUsage(undefined)).toBeUndefined();
    expect(anthropicUsage({})).toBeUndefined();
  });
});

describe("anthropicMessagesUsageReader.readBody", () => {
  it("reads usage and counts text, thinking and tool input", () => {
    const reading = anthropicMessagesUsageReader.readBody({
      id: "msg_1",
      type: "message",
      role: "assistant",
      model: "claude-haiku-4-5",
      content: [
        { type: "thinking", thinking: "Let me see.", signature: "c2ln" },
        { type: "text", text: "Hej ✓", citations: null },
        { type: "tool_use", id: "toolu_1", name: "get", input: { city: "Oslo" } },
        { type: "redacted_thinking", data: "ZW5jcnlwdGVk" },
      ],
      stop_reason: "tool_use",
      stop_sequence: null,
      usage: { input_tokens: 12, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 80 },
    });
    expect(reading).toStrictEqual({
      usage: { inputTokens: 12, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 80 },
      final: true,
      outputCharacters: "Let me see.".length + "Hej ✓".length + '{"city":"Oslo"}'.length,
    });
  });

  it("finds no usage in an error body", () => {
    expect(
      anthropicMessagesUsageReader.readBody({ type: "error", error: { type: "overloaded_error", message: "x" } }),
    ).toStrictEqual({ usage: undefined, final: false, outputCharacters: 0 });
  });
});
