import { describe, expect, it } from "vitest";
import { applyUsageOverrides, countTextCharacters, deriveUsage, replyWords } from "./fake-usage";

describe("countTextCharacters", () => {
  it("counts chat messages, string and part content, but not roles or models", () => {
    const body = {
      model: "gpt-4o-mini",
      messages: [
        { role: "system", content: "abc" },
        {
          role: "user",
          content: [
            { type: "text", text: "defg" },
            { type: "image_url", image_url: { url: "xxxx" } },
          ],
        },
      ],
    };

    expect(countTextCharacters(body)).toBe(7);
  });

  it("counts Anthropic system blocks and Responses instructions and input", () => {
    expect(
      countTextCharacters({ system: [{ type: "text", text: "ab" }], messages: [{ role: "user", content: "cd" }] }),
    ).toBe(4);
    expect(
      countTextCharacters({
        instructions: "ab",
        input: [{ role: "user", content: "cde" }],
        text: { format: { type: "text" } },
      }),
    ).toBe(5);
  });

  it("counts Gemini contents, systemInstruction, batch requests and the countTokens wrapper", () => {
    const contents = [{ role: "user", parts: [{ text: "abcd" }] }];

    expect(countTextCharacters({ contents, systemInstruction: { parts: [{ text: "ef" }] } })).toBe(6);
    expect(countTextCharacters({ requests: [{ model: "models/e", content: { parts: [{ text: "abc" }] } }] })).toBe(3);
    expect(countTextCharacters({ generateContentRequest: { model: "models/m", contents } })).toBe(4);
  });

  it("counts embedding input strings", () => {
    expect(countTextCharacters({ input: ["ab", "cde"], model: "text-embedding-3-small" })).toBe(5);
  });
});

describe("deriveUsage", () => {
  it("uses max(1, ceil(characters / 4)) input tokens", () => {
    expect(deriveUsage("openai.chat", { messages: [] }, 16).inputTokens).toBe(1);
    expect(deriveUsage("openai.chat", { messages: [{ role: "user", content: "12345" }] }, 16).inputTokens).toBe(2);
    expect(deriveUsage("openai.chat", { messages: [{ role: "user", content: "12345678" }] }, 16).inputTokens).toBe(2);
  });

  it("caps output by each API's own field", () => {
    const output = (operation: Parameters<typeof deriveUsage>[0], body: unknown) =>
      deriveUsage(operation, body, 16).outputTokens;

    expect(output("openai.chat", { max_tokens: 3 })).toBe(3);
    expect(output("openai.chat", { max_completion_tokens: 4, max_tokens: 3 })).toBe(4);
    expect(output("openai.responses", { max_output_tokens: 5 })).toBe(5);
    expect(output("anthropic.messages", { max_tokens: 1024 })).toBe(16);
    expect(output("google.streamGenerateContent", { generationConfig: { maxOutputTokens: 2 } })).toBe(2);
    expect(output("openai.chat", {})).toBe(16);
  });

  it("gives no output to embeddings and token counts", () => {
    expect(deriveUsage("openai.embeddings", { input: "abcd" }, 16)).toEqual({
      inputTokens: 1,
      cachedInputTokens: 0,
      cacheWriteInputTokens: 0,
      cacheWrite1hInputTokens: 0,
      outputTokens: 0,
      reasoningTokens: 0,
    });
    expect(deriveUsage("anthropic.countTokens", { max_tokens: 5 }, 16).outputTokens).toBe(0);
  });
});

describe("applyUsageOverrides", () => {
  const base = deriveUsage("openai.chat", { messages: [{ role: "user", content: "12345678" }] }, 16);

  it("applies overrides in order, skipping undefined layers", () => {
    expect(
      applyUsageOverrides(base, [{ outputTokens: 3 }, undefined, { outputTokens: 5, cachedInputTokens: 1 }]),
    ).toEqual({
      ...base,
      outputTokens: 5,
      cachedInputTokens: 1,
    });
  });

  it("raises totals to cover their parts", () => {
    const usage = applyUsageOverrides(base, [
      {
        cachedInputTokens: 10,
        cacheWriteInputTokens: 5,
        cacheWrite1hInputTokens: 1,
        outputTokens: 2,
        reasoningTokens: 8,
      },
    ]);

    expect(usage.inputTokens).toBe(16);
    expect(usage.outputTokens).toBe(8);
  });
});

describe("replyWords", () => {
  it("numbers the words from 1", () => {
    expect(replyWords(3)).toEqual(["w1 ", "w2 ", "w3 "]);
    expect(replyWords(0)).toEqual([]);
  });
});
