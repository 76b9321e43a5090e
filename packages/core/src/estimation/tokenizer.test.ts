import { randomBytes } from "node:crypto";
import { countTokens as cl100kCount } from "gpt-tokenizer/encoding/cl100k_base";
import { countTokens as gptTokenizerCount } from "gpt-tokenizer/encoding/o200k_base";
import { describe, expect, it } from "vitest";
import {
  countTokens,
  countTokensSync,
  DEFAULT_MAX_TOKENIZE_CHARS,
  isTokenizerLoaded,
  MAX_RUN_CHARS,
  preloadTokenizer,
  textPieces,
  utf8ByteLength,
} from "./tokenizer";

/** gpt-tokenizer on the whole text in one call, special-token text treated as plain text. */
function wholeCount(text: string): number {
  return gptTokenizerCount(text, { disallowedSpecial: new Set() });
}

function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

function randomCodePoints(length: number, from: number, to: number, seed = 1): string {
  const random = seededRandom(seed);
  let text = "";
  for (let index = 0; index < length; index++) text += String.fromCodePoint(from + Math.floor(random() * (to - from)));
  return text;
}

const prose =
  "Tollgate guards paid SDK calls: before a call it estimates the worst case and reserves it against quotas.\n" +
  "  Indented line with  two spaces, a tab\tand trailing spaces   \n\n" +
  "function add(a, b) {\n    return a + b; // comment\n}\n" +
  "Numbers 1234567 and 3.14159, URLs https://example.com/a?b=c, e-mail someone@example.org.\n";

describe("loading", () => {
  // First in the file: nothing has loaded cl100k_base yet.
  it("cannot count synchronously before an encoding is loaded; countTokens loads it", async () => {
    expect(isTokenizerLoaded("cl100k_base")).toBe(false);
    expect(countTokensSync("hello world", "cl100k_base")).toBeUndefined();
    expect(await countTokens("hello world", "cl100k_base")).toEqual({ tokens: 2, method: "tokenizer" });
    expect(isTokenizerLoaded("cl100k_base")).toBe(true);
    expect(countTokensSync("hello world", "cl100k_base")).toEqual({ tokens: 2, method: "tokenizer" });
  });

  it("preloadTokenizer loads o200k_base once for concurrent callers", async () => {
    const results = await Promise.all([preloadTokenizer(), preloadTokenizer("o200k_base"), countTokens("x")]);
    expect(results.slice(0, 2)).toEqual([true, true]);
    expect(isTokenizerLoaded("o200k_base")).toBe(true);
  });
});

describe("exact counts", () => {
  it.each([
    ["hello world", 2, 2],
    ["Hello, world!", 4, 4],
    // OpenAI cookbook, "How to count tokens with tiktoken": 6 tokens in cl100k_base.
    ["tiktoken is great!", 6, 6],
    ["こんにちは世界", 2, 4],
    ["", 0, 0],
  ])("%j is %i tokens in o200k_base and %i in cl100k_base", async (text, o200k, cl100k) => {
    expect((await countTokens(text, "o200k_base")).tokens).toBe(o200k);
    expect((await countTokens(text, "cl100k_base")).tokens).toBe(cl100k);
  });

  it("counts special-token text as the plain text the API sees, without throwing", async () => {
    expect(await countTokens("<|endoftext|>")).toEqual({ tokens: 7, method: "tokenizer" });
  });

  it("sums several texts", async () => {
    expect(await countTokens(["hello world", "Hello, world!"])).toEqual({ tokens: 6, method: "tokenizer" });
  });
});

describe("slicing", () => {
  it("cuts at spaces so that sliced counts equal the whole-text count exactly, in both encodings", async () => {
    await preloadTokenizer(["o200k_base", "cl100k_base"]);
    const text = prose.repeat(300); // ~100 kB
    const cl100kWhole = cl100kCount(text, { disallowedSpecial: new Set() });
    for (const sliceChars of [512, 1_000, 4_096, 16_384]) {
      expect(countTokensSync(text, "o200k_base", { sliceChars })?.tokens).toBe(wholeCount(text));
      expect(countTokensSync(text, "cl100k_base", { sliceChars })?.tokens).toBe(cl100kWhole);
    }
    const pieces = [...textPieces(text, 1_000)];
    expect(pieces.join("")).toBe(text);
    expect(pieces.every((piece) => piece.length <= 1_000)).toBe(true);
  });

  it("keeps surrogate pairs whole when a slice has no whitespace", () => {
    const emoji = randomCodePoints(20_000, 0x1f300, 0x1f64f);
    const pieces = [...textPieces(emoji, 1_001)];
    expect(pieces.join("")).toBe(emoji);
    const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
    expect(pieces.some((piece) => loneSurrogate.test(piece))).toBe(false);
  });

  it("cuts long single-class runs, which gpt-tokenizer merges in quadratic time, off by ≤ 2 tokens per cut", async () => {
    await preloadTokenizer();
    const cjk = randomCodePoints(4_096, 0x4e00, 0x9fff);
    const cuts = Math.ceil(cjk.length / MAX_RUN_CHARS);
    const started = performance.now();
    const sliced = countTokensSync(cjk)?.tokens ?? 0;
    const slicedMs = performance.now() - started;
    const whole = wholeCount(cjk);
    expect(Math.abs(sliced - whole)).toBeLessThanOrEqual(2 * cuts);
    // One call on 4,096 random ideographs takes ~110 ms; the cut pieces a few ms each.
    expect(slicedMs).toBeLessThan(1_000);
    const whitespace = "\n \n".repeat(2_000);
    expect(Math.abs((countTokensSync(whitespace)?.tokens ?? 0) - wholeCount(whitespace))).toBeLessThanOrEqual(
      2 * Math.ceil(whitespace.length / MAX_RUN_CHARS),
    );
  });

  it("counts natural CJK prose exactly (its clauses are short runs)", async () => {
    await preloadTokenizer();
    const japanese = "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。".repeat(200);
    expect(countTokensSync(japanese, "o200k_base", { sliceChars: 100_000 })?.tokens).toBe(wholeCount(japanese));
  });
});

describe("byte-count fallback", () => {
  const samples: Record<string, string> = {
    "English prose": prose.repeat(50),
    "compact JSON": JSON.stringify(
      Array.from({ length: 500 }, (_, id) => ({ id, name: `item ${id}`, ok: id % 2 === 0, tags: ["a", "b"] })),
    ),
    "pretty JSON": JSON.stringify({ users: Array.from({ length: 200 }, (_, id) => ({ id, nested: [id] })) }, null, 2),
    "Japanese prose": "吾輩は猫である。名前はまだ無い。".repeat(500),
    "random CJK ideographs": randomCodePoints(5_000, 0x4e00, 0x9fff, 7),
    "random Hangul": randomCodePoints(5_000, 0xac00, 0xd7a3, 8),
    emoji: randomCodePoints(3_000, 0x1f300, 0x1f64f, 9),
    "CJK extension B": randomCodePoints(2_000, 0x20000, 0x2a6df, 10),
    base64: randomBytes(30_000).toString("base64"),
    "digits between spaces": Array.from({ length: 10_000 }, (_, index) => index % 10).join(" "),
  };

  it.each(Object.entries(samples))("UTF-8 bytes bound the o200k and cl100k counts of %s", async (_name, text) => {
    await preloadTokenizer(["o200k_base", "cl100k_base"]);
    const bytes = utf8ByteLength(text);
    expect(bytes).toBe(Buffer.byteLength(text, "utf8"));
    expect(bytes).toBeGreaterThanOrEqual(countTokensSync(text, "o200k_base")?.tokens ?? Number.POSITIVE_INFINITY);
    expect(bytes).toBeGreaterThanOrEqual(countTokensSync(text, "cl100k_base")?.tokens ?? Number.POSITIVE_INFINITY);
  });

  it("matches Buffer.byteLength for lone surrogates too", () => {
    for (const text of ["\ud83d", "a\udc00b", "\ud83d\ude00", "é€𝄞"]) {
      expect(utf8ByteLength(text)).toBe(Buffer.byteLength(text, "utf8"));
    }
  });

  it("bounds the part not yet counted when the time budget runs out", async () => {
    await preloadTokenizer();
    const text = prose.repeat(400);
    const exact = (await countTokens(text)).tokens;
    const rushed = await countTokens([text, "héllo"], "o200k_base", { maxTokenizeMs: 0, sliceChars: 4_096 });
    expect(rushed.method).toBe("heuristic");
    expect(rushed.tokens).toBeGreaterThan(exact);
    expect(rushed.tokens).toBeLessThan(utf8ByteLength(text) + 6);
    expect(await countTokens("short", "o200k_base", { maxTokenizeMs: 0 })).toEqual({ tokens: 1, method: "tokenizer" });
  });

  it("is used above maxTokenizeChars, in total over all texts", async () => {
    expect(DEFAULT_MAX_TOKENIZE_CHARS).toBe(1_000_000);
    expect(await countTokens(["héllo", "world"], "o200k_base", { maxTokenizeChars: 9 })).toEqual({
      tokens: 11,
      method: "heuristic",
    });
    await preloadTokenizer();
    expect(countTokensSync("hello world", "o200k_base", { maxTokenizeChars: 5 })).toEqual({
      tokens: 11,
      method: "heuristic",
    });
  });
});

/** Runs `task` while a 5 ms interval measures the longest stretch the event loop could not run it. */
async function longestStall(task: () => Promise<unknown>): Promise<{ stallMs: number; elapsedMs: number }> {
  let last = performance.now();
  let stallMs = 0;
  const probe = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 5);
  const started = performance.now();
  await task();
  const elapsedMs = performance.now() - started;
  clearInterval(probe);
  stallMs = Math.max(stallMs, performance.now() - last);
  return { stallMs, elapsedMs };
}

/**
 * Asserts that `task` never kept the event loop from running for more than `maxStallMs`, beyond what the box itself
 * imposes: on a shared 2-core machine under load an idle process is also scheduled late, so the same probe is run
 * over an idle wait of the same length and its worst stall is allowed on top.
 */
async function expectResponsive(task: () => Promise<unknown>, maxStallMs: number): Promise<number> {
  const busy = await longestStall(task);
  const idle = await longestStall(() => new Promise((resolve) => setTimeout(resolve, Math.min(busy.elapsedMs, 2_000))));
  // On a box whose cores other test files keep busy, one slice can take a few hundred ms: a stall still passes if it
  // is a small part of the whole count. A synchronous count is one stall as long as the whole count, and fails both.
  expect(busy.stallMs).toBeLessThan(Math.max(maxStallMs + idle.stallMs, busy.elapsedMs / 3));
  return busy.elapsedMs;
}

describe("event loop", () => {
  // Measured stalls are 10–40 ms on an idle box (the first pieces of rare text, before V8 optimises gpt-tokenizer's
  // merge loop, ~50 ms); 80–200 ms when other processes keep both cores busy. A synchronous count of these inputs
  // takes 0.3 s (1 MB of prose) to minutes (random CJK).
  const maxStallMs = 150;

  it("bounds a 10 MB prompt by bytes without blocking the event loop for long", async () => {
    const text = prose.repeat(Math.ceil(10_485_760 / prose.length)).slice(0, 10_485_760);
    let result: unknown;
    await expectResponsive(async () => {
      result = await countTokens(text);
    }, maxStallMs);
    expect(result).toEqual({ tokens: 10_485_760, method: "heuristic" });
  });

  it("tokenises ~1 MB in slices, yielding between them", async () => {
    await preloadTokenizer();
    const random = seededRandom(3);
    const words = prose.split(/\s+/);
    let text = "";
    while (text.length < 900_000) text += `${words[Math.floor(random() * words.length)]}${random() < 0.1 ? "\n" : " "}`;
    let tokens = 0;
    await expectResponsive(async () => {
      tokens = (await countTokens(text, "o200k_base", { maxTokenizeMs: 60_000 })).tokens;
    }, maxStallMs);
    expect(tokens).toBe(wholeCount(text));
  });

  it("stays responsive on pathological input (random CJK, emoji, whitespace runs)", async () => {
    await preloadTokenizer();
    const text = `${randomCodePoints(60_000, 0x4e00, 0x9fff)}${" ".repeat(100_000)}${randomCodePoints(20_000, 0x1f300, 0x1f64f)}`;
    const elapsedMs = await expectResponsive(
      () => countTokens(text, "o200k_base", { maxTokenizeMs: 60_000 }),
      maxStallMs,
    );
    // One synchronous call on this text would take minutes.
    expect(elapsedMs).toBeLessThan(10_000);
  });
});
