import { describe, expect, it } from "vitest";
import {
  ANTHROPIC_IMAGE_TOKENS,
  ANTHROPIC_LEGACY_IMAGE_TOKENS,
  base64ByteLength,
  DOCUMENT_TEXT_TOKENS_PER_PAGE,
  GOOGLE_DOCUMENT_TOKENS_PER_PAGE,
  GOOGLE_IMAGE_TOKENS,
  mediaTokens,
  OPENAI_4O_MINI_IMAGE_TOKENS,
  OPENAI_IMAGE_TOKENS,
  OPENAI_LOW_IMAGE_TOKENS,
  OPENAI_NANO_41_IMAGE_TOKENS,
  OPENAI_ORIGINAL_IMAGE_TOKENS,
  parseDataUrl,
  pdfPageCount,
  UNKNOWN_DOCUMENT_PAGES,
  UNKNOWN_MEDIA_SECONDS,
  wavSeconds,
} from "./media-tokens";

describe("image bounds", () => {
  it("covers every OpenAI tile and patch model at high detail", () => {
    // 85 + 170 × 8 tiles (2048×768 after scaling), the most a tile model bills.
    expect(OPENAI_IMAGE_TOKENS).toBeGreaterThanOrEqual(85 + 170 * 8);
    // Patch models: 1,536 patches × 1.72 (o4-mini); 2,500 patches × 1.2 (gpt-5.4).
    expect(OPENAI_IMAGE_TOKENS).toBeGreaterThanOrEqual(Math.ceil(1_536 * 1.72));
    expect(OPENAI_IMAGE_TOKENS).toBeGreaterThanOrEqual(2_500 * 1.2);
    expect(OPENAI_NANO_41_IMAGE_TOKENS).toBe(Math.ceil(1_536 * 2.46));
    expect(OPENAI_4O_MINI_IMAGE_TOKENS).toBe(2_833 + 5_667 * 8);
  });

  it("picks the OpenAI figure by model and detail", () => {
    const image = (detail?: string) =>
      detail === undefined ? { kind: "image" as const } : { kind: "image" as const, detail };
    expect(mediaTokens("openai", "gpt-4o", image())).toBe(OPENAI_IMAGE_TOKENS);
    expect(mediaTokens("openai", "gpt-4o", image("high"))).toBe(OPENAI_IMAGE_TOKENS);
    expect(mediaTokens("openai", "gpt-4o", image("low"))).toBe(OPENAI_LOW_IMAGE_TOKENS);
    expect(mediaTokens("openai", "gpt-5-mini", image("low"))).toBe(OPENAI_IMAGE_TOKENS); // patch model: low saves nothing
    expect(mediaTokens("openai", "gpt-4.1-nano", image())).toBe(OPENAI_NANO_41_IMAGE_TOKENS);
    expect(mediaTokens("openai", "gpt-4o-mini-2024-07-18", image())).toBe(OPENAI_4O_MINI_IMAGE_TOKENS);
    expect(mediaTokens("openai", "ft:gpt-4o-mini:org::x", image("low"))).toBe(2_833);
    expect(mediaTokens("openai", "gpt-5.4", image("original"))).toBe(OPENAI_ORIGINAL_IMAGE_TOKENS);
  });

  it("picks the Claude figure by model generation", () => {
    for (const model of [
      "claude-3-5-haiku-latest",
      "claude-haiku-4-5",
      "claude-sonnet-4-5-20250929",
      "claude-opus-4-1-20250805",
      "claude-sonnet-4-6",
      "anthropic.claude-sonnet-4-20250514-v1:0",
    ]) {
      expect(mediaTokens("anthropic", model, { kind: "image" })).toBe(ANTHROPIC_LEGACY_IMAGE_TOKENS);
    }
    for (const model of [
      "claude-opus-4-7",
      "claude-opus-4-8",
      "claude-sonnet-5",
      "claude-opus-5-5",
      "some-new-model",
    ]) {
      expect(mediaTokens("anthropic", model, { kind: "image" })).toBe(ANTHROPIC_IMAGE_TOKENS);
    }
  });

  it("picks the Gemini figure by media resolution, or a stated count", () => {
    expect(mediaTokens("google", "gemini-2.5-flash", { kind: "image" })).toBe(GOOGLE_IMAGE_TOKENS);
    expect(GOOGLE_IMAGE_TOKENS).toBe(258 * 5);
    expect(mediaTokens("google", "gemini-3-pro", { kind: "image", resolution: "MEDIA_RESOLUTION_LOW" })).toBe(280);
    expect(mediaTokens("google", "gemini-3-pro", { kind: "image", resolution: "MEDIA_RESOLUTION_UNSPECIFIED" })).toBe(
      GOOGLE_IMAGE_TOKENS,
    );
    expect(mediaTokens("google", "gemini-3-pro", { kind: "image", tokens: 70 })).toBe(70);
  });
});

describe("audio, video and documents", () => {
  it("uses the duration when known, else the size at a low bitrate, else 10 minutes", () => {
    expect(mediaTokens("openai", "gpt-4o-audio-preview", { kind: "audio", seconds: 2 })).toBe(20);
    expect(mediaTokens("google", "gemini-2.5-flash", { kind: "audio", seconds: 2 })).toBe(64);
    expect(mediaTokens("google", "gemini-2.5-flash", { kind: "audio", bytes: 20_000 })).toBe(320); // 10 s at 16 kbit/s
    expect(mediaTokens("google", "gemini-2.5-flash", { kind: "video", seconds: 30.5 })).toBe(9_150);
    expect(mediaTokens("google", "gemini-2.5-flash", { kind: "video", bytes: 312_500 })).toBe(3_000); // 10 s
    expect(mediaTokens("google", "gemini-2.5-flash", { kind: "video" })).toBe(UNKNOWN_MEDIA_SECONDS * 300);
  });

  it("sizes documents per page: text plus the page image, Gemini one image per page", () => {
    expect(mediaTokens("anthropic", "claude-sonnet-4-5", { kind: "document", pages: 3 })).toBe(
      3 * (DOCUMENT_TEXT_TOKENS_PER_PAGE + ANTHROPIC_LEGACY_IMAGE_TOKENS),
    );
    expect(mediaTokens("openai", "gpt-4o", { kind: "document", pages: 2 })).toBe(
      2 * (DOCUMENT_TEXT_TOKENS_PER_PAGE + OPENAI_IMAGE_TOKENS),
    );
    expect(mediaTokens("google", "gemini-2.5-pro", { kind: "document", pages: 4 })).toBe(
      4 * GOOGLE_DOCUMENT_TOKENS_PER_PAGE,
    );
    expect(mediaTokens("google", "gemini-2.5-pro", { kind: "document", bytes: 120_000 })).toBe(
      3 * GOOGLE_DOCUMENT_TOKENS_PER_PAGE,
    );
    expect(mediaTokens("google", "gemini-2.5-pro", { kind: "document" })).toBe(
      UNKNOWN_DOCUMENT_PAGES * GOOGLE_DOCUMENT_TOKENS_PER_PAGE,
    );
  });
});

describe("reading inline data", () => {
  it("parses data URLs and base64 sizes", () => {
    expect(parseDataUrl("data:image/PNG;base64,AAAA")).toEqual({ mediaType: "image/png", base64: "AAAA" });
    expect(parseDataUrl("https://example.com/a.png")).toBeUndefined();
    expect(parseDataUrl("data:text/plain,hello")).toBeUndefined();
    for (const length of [0, 1, 2, 3, 4, 100, 1_001]) {
      expect(base64ByteLength(Buffer.alloc(length).toString("base64"))).toBe(length);
    }
  });

  it("counts PDF pages, ignoring /Pages and other types", () => {
    const pdf = Buffer.from(
      "%PDF-1.7\n<< /Type /Pages /Count 2 >>\n<< /Type /Page >>\n<</Type/Page/Rotate 90>>\n<< /Type /Catalog >>\n",
      "latin1",
    ).toString("base64");
    expect(pdfPageCount(pdf)).toBe(2);
    expect(pdfPageCount(Buffer.from("%PDF-1.7 compressed object streams").toString("base64"))).toBeUndefined();
  });

  it("reads WAV durations from the header", () => {
    const header = Buffer.alloc(44 + 48_000);
    header.write("RIFF", 0, "latin1");
    header.write("WAVE", 8, "latin1");
    header.writeUInt32LE(24_000, 28);
    expect(wavSeconds(header.toString("base64"))).toBe(2);
    expect(wavSeconds(Buffer.alloc(100, 1).toString("base64"))).toBeUndefined();
  });
});
