import { describe, expect, it } from "vitest";
import { TokenCalibration } from "./calibration";
import {
  ANTHROPIC_TOOLS_TOKENS,
  encodingFor,
  estimateInputTokens,
  estimateRawInputTokens,
  OPENAI_TOOLS_TOKENS,
  providerOf,
} from "./input-estimate";
import {
  ANTHROPIC_IMAGE_TOKENS,
  ANTHROPIC_LEGACY_IMAGE_TOKENS,
  GOOGLE_IMAGE_TOKENS,
  OPENAI_IMAGE_TOKENS,
  OPENAI_LOW_IMAGE_TOKENS,
} from "./media-tokens";
import { countTokens } from "./tokenizer";

async function tokens(text: string, encoding: "o200k_base" | "cl100k_base" = "o200k_base"): Promise<number> {
  return (await countTokens(text, encoding)).tokens;
}

describe("OpenAI", () => {
  it("adds 3 tokens per message (role included), 1 per name and 3 to prime the reply", async () => {
    // "user" 1 + "hello world" 2 + 3 + 3 = 9, OpenAI's prompt_tokens for this request.
    expect(
      await estimateInputTokens("openai.chat", {
        model: "gpt-4o",
        messages: [{ role: "user", content: "hello world" }],
      }),
    ).toEqual({ inputTokens: 9, method: "tokenizer", rawTokens: 9, calibratable: true });
    const named = await estimateInputTokens("openai.chat", {
      model: "gpt-4o",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", name: "ann", content: "hello world" },
      ],
    });
    const text =
      (await tokens("system")) + (await tokens("Be brief.")) + (await tokens("user")) + (await tokens("ann")) + 2;
    expect(named.inputTokens).toBe(text + 2 * 3 + 1 + 3);
  });

  it("counts tools as their JSON plus the tools framing", async () => {
    const tool = { type: "function", function: { name: "f", parameters: { type: "object" } } };
    const withTools = await estimateInputTokens("openai.chat", {
      model: "gpt-4o",
      messages: [{ role: "user", content: "hi" }],
      tools: [tool],
    });
    const without = await estimateInputTokens("openai.chat", {
      model: "gpt-4o",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(withTools.inputTokens - without.inputTokens).toBe(
      (await tokens(JSON.stringify(tool))) + OPENAI_TOOLS_TOKENS,
    );
  });

  it("uses cl100k_base for gpt-4, gpt-3.5 and the embedding models, o200k_base otherwise", async () => {
    expect(encodingFor("openai", "gpt-4")).toBe("cl100k_base");
    expect(encodingFor("openai", "gpt-4-turbo-2024-04-09")).toBe("cl100k_base");
    expect(encodingFor("openai", "gpt-3.5-turbo")).toBe("cl100k_base");
    expect(encodingFor("openai", "text-embedding-3-small")).toBe("cl100k_base");
    expect(encodingFor("openai", "text-embedding-ada-002")).toBe("cl100k_base");
    expect(encodingFor("openai", "ft:gpt-3.5-turbo:org::abc")).toBe("cl100k_base");
    for (const model of ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.5-preview", "gpt-5", "o3", "gpt-oss-120b", ""]) {
      expect(encodingFor("openai", model)).toBe("o200k_base");
    }
    expect(encodingFor("anthropic", "gpt-4")).toBe("o200k_base");
    // "こんにちは世界" is 2 o200k tokens and 4 cl100k tokens.
    const japanese = { messages: [{ role: "user", content: "こんにちは世界" }] };
    expect((await estimateInputTokens("openai.chat", { ...japanese, model: "gpt-4" })).rawTokens).toBe(1 + 4 + 6);
    expect((await estimateInputTokens("openai.chat", { ...japanese, model: "gpt-4o" })).rawTokens).toBe(1 + 2 + 6);
  });

  it("counts embeddings inputs without chat overhead, token arrays by length", async () => {
    const estimate = await estimateInputTokens("openai.embeddings", {
      model: "text-embedding-3-small",
      input: ["hello world", "tiktoken is great!"],
    });
    expect(estimate.inputTokens).toBe(2 + 6);
    expect(
      (await estimateInputTokens("openai.embeddings", { model: "text-embedding-3-small", input: [[1, 2, 3], [4]] }))
        .inputTokens,
    ).toBe(4);
  });

  it("counts the Responses API's instructions and items like chat messages", async () => {
    const estimate = await estimateInputTokens("openai.responses", {
      model: "gpt-5",
      instructions: "Be brief.",
      input: "hello world",
    });
    expect(estimate.inputTokens).toBe((await tokens("Be brief.")) + 2 + 2 * 3 + 3);
  });

  it("counts images as the documented bound, not their base64", async () => {
    const png = `data:image/png;base64,${Buffer.alloc(200_000, 1).toString("base64")}`;
    const chat = (detail?: string) => ({
      model: "gpt-4o",
      messages: [
        { role: "user", content: [{ type: "image_url", image_url: detail ? { url: png, detail } : { url: png } }] },
      ],
    });
    const base = 1 + 3 + 3; // role + message + priming
    expect((await estimateInputTokens("openai.chat", chat())).inputTokens).toBe(base + OPENAI_IMAGE_TOKENS);
    expect((await estimateInputTokens("openai.chat", chat("low"))).inputTokens).toBe(base + OPENAI_LOW_IMAGE_TOKENS);
    expect((await estimateInputTokens("openai.chat", { ...chat(), model: "gpt-4o-mini" })).inputTokens).toBe(
      base + 48_169,
    );
  });
});

describe("Anthropic and Google", () => {
  it("multiply the o200k estimate by the default factors, rounded up", async () => {
    const anthropic = await estimateInputTokens("anthropic.messages", {
      model: "claude-sonnet-4-5",
      max_tokens: 10,
      messages: [{ role: "user", content: "hello world" }],
    });
    // 2 text + 3 per message + 3 priming = 8; × 1.25 = 10.
    expect(anthropic).toEqual({ inputTokens: 10, method: "tokenizer", rawTokens: 8, calibratable: true });
    const google = await estimateInputTokens("google.generateContent", {
      model: "gemini-2.5-flash",
      contents: "hello world",
    });
    // Gemini counts no per-message overhead: 2 × 1.1 = 2.2 → 3.
    expect(google).toEqual({ inputTokens: 3, method: "tokenizer", rawTokens: 2, calibratable: true });
  });

  it("avoids float noise in the rounding (100 × 1.1 is 110, not 111)", async () => {
    const text = Array.from({ length: 100 }, () => " hello").join("");
    expect(await tokens(text)).toBe(100);
    const google = await estimateInputTokens("google.generateContent", { model: "gemini-2.5-flash", contents: text });
    expect(google.inputTokens).toBe(110);
  });

  it("takes the factors from a calibration, which never goes below the configured ones", async () => {
    const calibration = new TokenCalibration();
    const params = { model: "claude-opus-4-8", max_tokens: 5, messages: [{ role: "user", content: "x ".repeat(400) }] };
    const first = await estimateInputTokens("anthropic.messages", params, { calibration });
    expect(first.inputTokens).toBe(Math.ceil(first.rawTokens * 1.25));
    for (let index = 0; index < 30; index++)
      calibration.observe("anthropic", "claude-opus-4-8", first.rawTokens, first.rawTokens * 2);
    const learned = await estimateInputTokens("anthropic.messages", params, { calibration });
    expect(learned.inputTokens).toBeGreaterThanOrEqual(Math.ceil(first.rawTokens * 2 * 1.05 * 0.99));
    const floored = await estimateInputTokens("anthropic.messages", params, {
      calibration: new TokenCalibration(),
      factors: { anthropic: 2 },
    });
    expect(floored.inputTokens).toBe(first.rawTokens * 2);
  });

  it("add Claude's tool-use system prompt when tools are present", async () => {
    const params = { model: "claude-haiku-4-5", max_tokens: 5, messages: [{ role: "user", content: "hi" }] };
    const tool = { name: "f", input_schema: { type: "object" } };
    const withTools = await estimateInputTokens("anthropic.messages", { ...params, tools: [tool] });
    const without = await estimateInputTokens("anthropic.messages", params);
    expect(withTools.rawTokens - without.rawTokens).toBe((await tokens(JSON.stringify(tool))) + ANTHROPIC_TOOLS_TOKENS);
  });

  it("count images as the documented per-model bounds", async () => {
    const image = { type: "image", source: { type: "url", url: "https://example.com/a.png" } };
    const claude = async (model: string) =>
      (
        await estimateInputTokens("anthropic.messages", {
          model,
          max_tokens: 5,
          messages: [{ role: "user", content: [image] }],
        })
      ).rawTokens;
    expect(await claude("claude-haiku-4-5")).toBe(6 + ANTHROPIC_LEGACY_IMAGE_TOKENS);
    expect(await claude("claude-sonnet-4-20250514")).toBe(6 + ANTHROPIC_LEGACY_IMAGE_TOKENS);
    expect(await claude("claude-3-5-sonnet-latest")).toBe(6 + ANTHROPIC_LEGACY_IMAGE_TOKENS);
    expect(await claude("claude-opus-4-7")).toBe(6 + ANTHROPIC_IMAGE_TOKENS);
    expect(await claude("claude-sonnet-5")).toBe(6 + ANTHROPIC_IMAGE_TOKENS);
    const gemini = await estimateInputTokens("google.generateContent", {
      model: "gemini-2.5-flash",
      contents: [{ role: "user", parts: [{ fileData: { mimeType: "image/png", fileUri: "gs://b/a.png" } }] }],
    });
    expect(gemini.rawTokens).toBe(GOOGLE_IMAGE_TOKENS);
  });

  it("estimates the old Google SDK's requests, with the model passed separately", async () => {
    for (const params of [
      "hello world",
      ["hello world"],
      { contents: [{ role: "user", parts: [{ text: "hello world" }] }] },
    ]) {
      expect(await estimateInputTokens("google.generateContent", params, { model: "gemini-1.5-flash" })).toEqual({
        inputTokens: 3,
        method: "tokenizer",
        rawTokens: 2,
        calibratable: true,
      });
    }
  });
});

describe("limits of the estimate", () => {
  it("bounds a 10 MB prompt by its bytes, without a factor, and marks it uncalibratable", async () => {
    const text = "a".repeat(10 * 1024 * 1024);
    const estimate = await estimateInputTokens("anthropic.messages", {
      model: "claude-sonnet-4-5",
      max_tokens: 10,
      messages: [{ role: "user", content: text }],
    });
    expect(estimate).toEqual({
      inputTokens: 10 * 1024 * 1024 + 6,
      method: "heuristic",
      rawTokens: 10 * 1024 * 1024 + 6,
      calibratable: false,
    });
  });

  it("marks requests with unseen input as uncalibratable", async () => {
    const estimate = await estimateInputTokens("openai.responses", {
      model: "gpt-5",
      input: "hi",
      previous_response_id: "resp_1",
    });
    expect(estimate.calibratable).toBe(false);
  });

  it("keeps estimateRawInputTokens for callers that apply the factor themselves", async () => {
    expect(
      await estimateRawInputTokens("anthropic", "anthropic.messages", "claude-sonnet-4-5", {
        messages: [{ role: "user", content: "hello world" }],
      }),
    ).toBe(8);
    expect(providerOf("google.embedContent")).toBe("google");
    expect(providerOf("openai.responses")).toBe("openai");
    expect(providerOf("anthropic.messages")).toBe("anthropic");
  });
});
