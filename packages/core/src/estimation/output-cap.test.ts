import { describe, expect, it } from "vitest";
import { readOutputCap, withOutputCap } from "./output-cap";

/** Deep-frozen, so any write to the caller's object throws. */
function frozen<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const item of Object.values(value)) frozen(item);
    Object.freeze(value);
  }
  return value;
}

describe("readOutputCap", () => {
  it("reads each provider's field", () => {
    expect(readOutputCap("openai.chat", { max_completion_tokens: 100, max_tokens: 50 })).toBe(100);
    expect(readOutputCap("openai.chat", { max_tokens: 50 })).toBe(50);
    expect(readOutputCap("openai.chat", { messages: [] })).toBeUndefined();
    expect(readOutputCap("openai.responses", { max_output_tokens: 70 })).toBe(70);
    expect(readOutputCap("anthropic.messages", { max_tokens: 1024 })).toBe(1024);
    expect(
      readOutputCap("google.generateContent", {
        model: "gemini-2.5-flash",
        contents: "x",
        config: { maxOutputTokens: 64 },
      }),
    ).toBe(64);
    expect(readOutputCap("google.generateContent", { contents: [], generationConfig: { maxOutputTokens: 32 } })).toBe(
      32,
    );
  });

  it("is 0 for embeddings", () => {
    expect(readOutputCap("openai.embeddings", { input: "x" })).toBe(0);
    expect(readOutputCap("google.embedContent", "x")).toBe(0);
  });

  it("multiplies by the number of choices or candidates", () => {
    expect(readOutputCap("openai.chat", { max_completion_tokens: 100, n: 3 })).toBe(300);
    expect(
      readOutputCap("google.generateContent", { model: "m", config: { maxOutputTokens: 10, candidateCount: 2 } }),
    ).toBe(20);
    expect(
      readOutputCap("google.generateContent", { generationConfig: { maxOutputTokens: 10, candidateCount: 4 } }),
    ).toBe(40);
  });

  it("ignores values of the wrong type", () => {
    expect(readOutputCap("openai.chat", { max_tokens: "100" })).toBeUndefined();
    expect(readOutputCap("anthropic.messages", { max_tokens: Number.NaN })).toBeUndefined();
    expect(readOutputCap("openai.responses", { max_output_tokens: null })).toBeUndefined();
    expect(readOutputCap("anthropic.messages", "nope")).toBeUndefined();
  });

  it("reads the old SDK's model-level generationConfig unless the request has its own", () => {
    const model = { maxOutputTokens: 256, temperature: 0 };
    expect(readOutputCap("google.generateContent", "Tell me a joke", model)).toBe(256);
    expect(readOutputCap("google.generateContent", ["a", { text: "b" }], model)).toBe(256);
    expect(readOutputCap("google.generateContent", { contents: [] }, model)).toBe(256);
    // The SDK sends the request's generationConfig instead of the model's, not merged with it.
    expect(
      readOutputCap("google.generateContent", { contents: [], generationConfig: { temperature: 1 } }, model),
    ).toBeUndefined();
    expect(
      readOutputCap("google.generateContent", { contents: [], generationConfig: { maxOutputTokens: 8 } }, model),
    ).toBe(8);
  });
});

describe("withOutputCap", () => {
  it("injects the cap into a copy, leaving the caller's params untouched", () => {
    const chat = frozen({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] });
    const capped = withOutputCap("openai.chat", chat, 500);
    expect(capped).toEqual({ ...chat, max_completion_tokens: 500 });
    expect(capped).not.toBe(chat);
    expect(chat).not.toHaveProperty("max_completion_tokens");
    expect(readOutputCap("openai.chat", capped)).toBe(500);

    expect(withOutputCap("openai.chat", frozen({ max_tokens: null }), 7)).toEqual({ max_completion_tokens: 7 });
    expect(withOutputCap("openai.responses", frozen({ input: "x" }), 9)).toEqual({ input: "x", max_output_tokens: 9 });
    expect(withOutputCap("anthropic.messages", frozen({ messages: [] }), 11)).toEqual({ messages: [], max_tokens: 11 });
  });

  it("sets config.maxOutputTokens for @google/genai, keeping the rest of config", () => {
    const params = frozen({
      model: "gemini-2.5-flash",
      contents: "hi",
      config: { temperature: 0.2, systemInstruction: "s" },
    });
    const capped = withOutputCap("google.generateContent", params, 128);
    expect(capped).toEqual({
      model: "gemini-2.5-flash",
      contents: "hi",
      config: { temperature: 0.2, systemInstruction: "s", maxOutputTokens: 128 },
    });
    expect(withOutputCap("google.generateContent", frozen({ model: "m", contents: "hi" }), 5)).toEqual({
      model: "m",
      contents: "hi",
      config: { maxOutputTokens: 5 },
    });
  });

  it("sets generationConfig.maxOutputTokens for the old SDK, merging the model's config when the request has none", () => {
    const modelConfig = frozen({ temperature: 0, topK: 3 });
    const request = frozen({ contents: [{ role: "user", parts: [{ text: "hi" }] }] });
    expect(withOutputCap("google.generateContent", request, 64, modelConfig)).toEqual({
      contents: [{ role: "user", parts: [{ text: "hi" }] }],
      generationConfig: { temperature: 0, topK: 3, maxOutputTokens: 64 },
    });
    const own = frozen({ contents: [], generationConfig: { temperature: 1 } });
    expect(withOutputCap("google.generateContent", own, 64, modelConfig)).toEqual({
      contents: [],
      generationConfig: { temperature: 1, maxOutputTokens: 64 },
    });
  });

  it("turns the old SDK's string and parts requests into { contents: Content[] } as the SDK would", () => {
    expect(withOutputCap("google.generateContent", "Tell me a joke", 10)).toEqual({
      contents: [{ role: "user", parts: [{ text: "Tell me a joke" }] }],
      generationConfig: { maxOutputTokens: 10 },
    });
    const parts = frozen(["Describe", { inlineData: { mimeType: "image/png", data: "AA==" } }]);
    expect(withOutputCap("google.generateContent", parts, 10, { temperature: 0 })).toEqual({
      contents: [
        { role: "user", parts: [{ text: "Describe" }, { inlineData: { mimeType: "image/png", data: "AA==" } }] },
      ],
      generationConfig: { temperature: 0, maxOutputTokens: 10 },
    });
    const response = { functionResponse: { name: "f", response: { ok: true } } };
    expect(withOutputCap("google.generateContent", [response], 10)).toEqual({
      contents: [{ role: "function", parts: [response] }],
      generationConfig: { maxOutputTokens: 10 },
    });
    // The guard's REST form of a string request.
    expect(withOutputCap("google.generateContent", frozen({ contents: "hi", generationConfig: undefined }), 3)).toEqual(
      {
        contents: [{ role: "user", parts: [{ text: "hi" }] }],
        generationConfig: { maxOutputTokens: 3 },
      },
    );
  });

  it("round-trips: the injected cap is what readOutputCap reads", () => {
    const cases: [Parameters<typeof withOutputCap>[0], unknown][] = [
      ["openai.chat", { messages: [] }],
      ["openai.responses", { input: "x" }],
      ["anthropic.messages", { messages: [] }],
      ["google.generateContent", { model: "m", contents: "x" }],
      ["google.generateContent", "x"],
    ];
    for (const [operation, params] of cases) {
      expect(readOutputCap(operation, withOutputCap(operation, params, 77))).toBe(77);
    }
  });

  it("leaves embeddings and non-object params of other operations as they are", () => {
    const params = { input: "x" };
    expect(withOutputCap("openai.embeddings", params, 10)).toBe(params);
    expect(withOutputCap("google.embedContent", "x", 10)).toBe("x");
    expect(withOutputCap("openai.chat", "x", 10)).toBe("x");
  });
});
