import { describe, expect, it, vi } from "vitest";
import { findPrice } from "./find-price";
import type { ModelPrice, PriceOverride } from "./model-price";
import { PriceIndex } from "./price-index";

function rates(price: ModelPrice | undefined): [number, number] | undefined {
  return price === undefined ? undefined : [price.input, price.output];
}

describe("findPrice in the bundled table", () => {
  it.each([
    ["openai", "gpt-4o", [2.5, 10]],
    ["openai", "gpt-4o-2024-08-06", [2.5, 10]],
    ["openai", "gpt-4o-2024-05-13", [5, 15]], // its own entry, not gpt-4o's
    ["openai", "gpt-4o-20240513", [5, 15]], // compact date, tried with dashes as the source data does
    ["openai", "gpt-4o-2026-01-15", [2.5, 10]], // a snapshot the table does not list
    ["openai", "GPT-4o-mini", [0.15, 0.6]],
    ["openai", "chatgpt-4o-latest", [5, 15]],
    ["openai", "gpt-4.1-mini-2025-04-14", [0.4, 1.6]],
    ["openai", "gpt-5-nano-2025-08-07", [0.05, 0.4]],
    ["openai", "o3", [2, 8]], // the 2025-06-10 price cut is in force
    ["openai", "o4-mini-latest", [1.1, 4.4]],
    ["openai", "text-embedding-3-small", [0.02, 0]],
    ["openai", "ft:gpt-4o-mini-2024-07-18:acme::abc123", [0.3, 1.2]],
    ["anthropic", "claude-sonnet-4-5-20250929", [3, 15]],
    ["anthropic", "claude-haiku-4-5-20251001", [1, 5]],
    ["anthropic", "claude-opus-4-1-20250805", [15, 75]],
    ["anthropic", "claude-opus-4-20250514", [15, 75]],
    ["anthropic", "claude-3-5-haiku-latest", [0.8, 4]],
    ["anthropic", "claude-3-7-sonnet-20250219", [3, 15]],
    ["google", "gemini-2.5-flash", [0.3, 2.5]],
    ["google", "models/gemini-2.5-flash", [0.3, 2.5]],
    ["google", "projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro", [1.25, 10]],
    ["google", "gemini-2.5-pro-preview-06-05", [1.25, 10]],
    ["google", "gemini-2.0-flash-001", [0.1, 0.4]],
    ["google", "gemini-2.0-flash-lite-001", [0.075, 0.3]],
    ["google", "gemini-1.5-flash-002", [0.075, 0.3]],
    ["google", "gemini-2.5-flash-lite", [0.1, 0.4]],
    ["google", "gemini-3-pro-preview", [2, 12]],
    ["google", "gemini-embedding-001", [0.15, 0]],
  ] as const)("%s %s → %j", (provider, model, expected) => {
    expect(rates(findPrice(provider, model))).toEqual(expected);
  });

  it.each([
    ["openai", "gpt-7"],
    ["openai", "gpt-4o-audio-preview"], // billed per modality: left out, and gpt-4o's price must not leak in
    ["openai", "gpt-4o-realtime-preview-2024-12-17"],
    ["openai", "my-gpt-4o"],
    ["anthropic", "gpt-4o"], // wrong provider
    ["anthropic", "claude-unknown-9"],
    ["google", "gemini-2.5-pro-preview-tts"], // a TTS model under a text model's prefix
    ["google", "gemini-2.0-flash-exp-image-generation"],
    ["google", "gemini-flash-latest"], // a moving alias: the table cannot know which model it is today
    ["google", "text-embedding-004"],
    ["google", "tunedModels/gemini-2.5-flash-tuned"],
  ] as const)("%s %s → undefined", (provider, model) => {
    expect(findPrice(provider, model)).toBeUndefined();
  });

  it("returns the same frozen entry every time", () => {
    const price = findPrice("openai", "gpt-4o");
    expect(findPrice("openai", "gpt-4o")).toBe(price);
    expect(Object.isFrozen(price)).toBe(true);
    const tiered = findPrice("anthropic", "claude-sonnet-4-5");
    expect(Object.isFrozen(tiered?.tiers)).toBe(true);
    expect(Object.isFrozen(tiered?.tiers?.[0])).toBe(true);
  });

  it("puts the Anthropic and Google long-context tiers at more than 200,000 input tokens", () => {
    expect(findPrice("anthropic", "claude-sonnet-4-5")?.tiers).toEqual([
      { minInputTokens: 200_001, input: 6, output: 22.5, cachedInput: 0.6, cacheWrite: 7.5, cacheWrite1h: 12 },
    ]);
    expect(findPrice("google", "gemini-2.5-pro")?.tiers).toEqual([
      { minInputTokens: 200_001, input: 2.5, output: 15, cachedInput: 0.25 },
    ]);
  });
});

describe("findPrice with overrides and a resolver", () => {
  const override: PriceOverride = { input: 1, output: 2 };

  it("prefers overrides, then the resolver, then the table", () => {
    const resolver = vi.fn(() => ({ input: 3, output: 4 }));
    expect(rates(findPrice("openai", "gpt-4o", { overrides: { "gpt-4o": override }, resolver }))).toEqual([1, 2]);
    expect(resolver).not.toHaveBeenCalled();
    expect(rates(findPrice("openai", "gpt-4o", { overrides: { other: override }, resolver }))).toEqual([3, 4]);
    expect(resolver).toHaveBeenCalledWith("openai", "gpt-4o");
    expect(rates(findPrice("openai", "gpt-4o", { resolver: () => undefined }))).toEqual([2.5, 10]);
  });

  it("returns an exact ModelPrice named after the call, without touching the override", () => {
    const price = findPrice("openai", "ft:gpt-4.1:acme::x1", { overrides: { "ft:gpt-4.1:acme::x1": override } });
    expect(price).toEqual({ provider: "openai", model: "ft:gpt-4.1:acme::x1", match: "exact", input: 1, output: 2 });
    expect(override).toEqual({ input: 1, output: 2 });
  });

  it("matches override keys exactly, or by the normalised name, never by prefix", () => {
    const overrides = { "gemini-2.5-flash": override };
    expect(rates(findPrice("google", "models/gemini-2.5-flash", { overrides }))).toEqual([1, 2]);
    expect(rates(findPrice("google", "gemini-2.5-flash-lite", { overrides }))).toEqual([0.1, 0.4]);
  });

  it("ignores properties inherited from Object.prototype", () => {
    expect(findPrice("openai", "constructor", { overrides: {} })).toBeUndefined();
    expect(findPrice("openai", "toString", { overrides: {} })).toBeUndefined();
  });

  it("prices a model the table does not know when the user does", () => {
    expect(findPrice("openai", "gpt-7")).toBeUndefined();
    expect(
      rates(
        findPrice("openai", "gpt-7", { resolver: (_provider, model) => (model === "gpt-7" ? override : undefined) }),
      ),
    ).toEqual([1, 2]);
  });
});

describe("PriceIndex", () => {
  const entry = (model: string, match: "exact" | "prefix", input: number): ModelPrice => ({
    provider: "openai",
    model,
    match,
    input,
    output: 0,
  });

  it("takes the exact entry first, then the longest prefix", () => {
    const index = new PriceIndex([entry("a", "prefix", 1), entry("a-b", "prefix", 2), entry("a-b-c", "exact", 3)]);
    expect(index.find("openai", "a-b-c")?.input).toBe(3);
    expect(index.find("openai", "a-b-c-d")?.input).toBe(2);
    expect(index.find("openai", "a-x")?.input).toBe(1);
    expect(index.find("openai", "b")).toBeUndefined();
    expect(index.find("anthropic", "a")).toBeUndefined();
  });

  it("keeps the first of two entries for the same name", () => {
    const index = new PriceIndex([entry("a", "exact", 1), entry("a", "exact", 2)]);
    expect(index.find("openai", "a")?.input).toBe(1);
  });
});
