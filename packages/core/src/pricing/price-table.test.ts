import { calcPrice } from "@pydantic/genai-prices";
import { describe, expect, it } from "vitest";
import type { ProviderName, TokenUsage } from "../usage/token-usage";
import { costNanoUsd, NANO_USD_PER_USD } from "./cost";
import { findPrice } from "./find-price";
import type { ModelPrice } from "./model-price";
import { PRICE_TABLE, PRICE_TABLE_SOURCE } from "./price-table.generated";

function rowKey(row: ModelPrice): string {
  return `${row.provider} ${row.model} ${row.match}`;
}

function allRates(row: ModelPrice): number[] {
  const rates = [row.input, row.output, row.cachedInput, row.cacheWrite, row.cacheWrite1h, row.reasoningOutput];
  for (const tier of row.tiers ?? [])
    rates.push(tier.input, tier.output, tier.cachedInput, tier.cacheWrite, tier.cacheWrite1h);
  return rates.filter((rate): rate is number => rate !== undefined);
}

describe("PRICE_TABLE", () => {
  it("records its source", () => {
    expect(PRICE_TABLE_SOURCE).toEqual({ package: "@pydantic/genai-prices", version: "0.1.8" });
  });

  it("is sorted by provider, model and match, without duplicates", () => {
    const keys = PRICE_TABLE.map(rowKey);
    expect(new Set(keys).size).toBe(keys.length);
    const sorted = [...PRICE_TABLE].sort(
      (left, right) =>
        left.provider.localeCompare(right.provider, "en") ||
        (left.model < right.model ? -1 : left.model > right.model ? 1 : 0) ||
        left.match.localeCompare(right.match, "en"),
    );
    expect(PRICE_TABLE.map(rowKey)).toEqual(sorted.map(rowKey));
  });

  it("holds lower-case names and finite rates with at most 6 decimals", () => {
    for (const row of PRICE_TABLE) {
      expect(row.model).toBe(row.model.toLowerCase());
      for (const rate of allRates(row)) {
        expect(Number.isFinite(rate) && rate >= 0).toBe(true);
        expect(Math.abs(rate * 1e6 - Math.round(rate * 1e6))).toBeLessThan(1e-6);
      }
      const thresholds = (row.tiers ?? []).map((tier) => tier.minInputTokens);
      expect(thresholds).toEqual([...thresholds].sort((left, right) => left - right));
    }
  });

  it.each([
    [
      "openai",
      ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-5", "gpt-5-mini", "gpt-5-nano"],
    ],
    ["openai", ["o1", "o1-mini", "o3", "o3-mini", "o4-mini", "text-embedding-3-small", "text-embedding-3-large"]],
    ["anthropic", ["claude-3-5-sonnet-20241022", "claude-3-5-haiku-20241022", "claude-3-7-sonnet-20250219"]],
    ["anthropic", ["claude-sonnet-4-20250514", "claude-opus-4-20250514", "claude-opus-4-1-20250805"]],
    ["anthropic", ["claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "claude-opus-4-5-20251101"]],
    ["google", ["gemini-1.5-flash", "gemini-1.5-pro", "gemini-2.0-flash", "gemini-2.0-flash-lite", "gemini-2.5-flash"]],
    ["google", ["gemini-2.5-pro", "gemini-2.5-flash-lite", "gemini-3-pro-preview", "gemini-3-flash-preview"]],
    ["google", ["gemini-embedding-001"]],
  ] as const)("prices the common %s models %j", (provider, models) => {
    for (const model of models) expect(findPrice(provider, model), model).toBeDefined();
  });
});

/**
 * Every name in the table, priced by `findPrice` + `costNanoUsd`, must cost what `calcPrice` of
 * @pydantic/genai-prices says for the same name and usage: same entry chosen, same tiers, same fallbacks.
 */
describe("agreement with @pydantic/genai-prices", () => {
  const usages: TokenUsage[] = [
    {
      inputTokens: 1_000,
      cachedInputTokens: 200,
      cacheWriteInputTokens: 100,
      cacheWrite1hInputTokens: 50,
      outputTokens: 500,
    },
    { inputTokens: 300_000, cachedInputTokens: 1_000, cacheWriteInputTokens: 2_000, outputTokens: 100 },
    { inputTokens: 7, outputTokens: 3 },
  ];

  function vendorUsd(provider: ProviderName, model: string, usage: TokenUsage): number | undefined {
    const cacheWrite = (usage.cacheWriteInputTokens ?? 0) + (usage.cacheWrite1hInputTokens ?? 0);
    const result = calcPrice(
      {
        input_tokens: usage.inputTokens,
        cache_read_tokens: usage.cachedInputTokens ?? 0,
        cache_write_tokens: cacheWrite,
        cache_write_1h_tokens: usage.cacheWrite1hInputTokens ?? 0,
        output_tokens: usage.outputTokens,
      },
      model,
      { providerId: provider },
    );
    return result?.total_price;
  }

  it("agrees for every table name, with tiers probed at their thresholds", () => {
    const disagreements: string[] = [];
    let compared = 0;
    for (const row of PRICE_TABLE) {
      const names = row.match === "exact" ? [row.model] : [row.model, `${row.model}-x`];
      const probes = [...usages];
      for (const tier of row.tiers ?? []) {
        probes.push({ inputTokens: tier.minInputTokens - 1, outputTokens: 10 });
        probes.push({ inputTokens: tier.minInputTokens, outputTokens: 10 });
      }
      for (const name of names) {
        const price = findPrice(row.provider, name);
        for (const usage of probes) {
          const expected = vendorUsd(row.provider, name, usage);
          if (price === undefined || expected === undefined) {
            disagreements.push(
              `${row.provider} ${name}: ours ${price === undefined ? "none" : "priced"}, theirs ${expected ?? "none"}`,
            );
            continue;
          }
          const ours = costNanoUsd(price, usage).costNanoUsd;
          // Ours is the exact sum rounded up to a nano-USD; theirs is a float.
          const difference = ours - expected * NANO_USD_PER_USD;
          if (difference < -1e-3 || difference > 1 + 1e-3) {
            disagreements.push(`${row.provider} ${name} ${JSON.stringify(usage)}: ours ${ours}, theirs ${expected}`);
          }
          compared += 1;
        }
      }
    }
    expect(disagreements).toEqual([]);
    expect(compared).toBeGreaterThan(PRICE_TABLE.length * usages.length);
  });

  it("agrees for dated snapshots and aliases the source data also prices", () => {
    const disagreements: string[] = [];
    for (const row of PRICE_TABLE) {
      for (const suffix of ["-2025-01-01", "-20250101", "-latest", "-001", "-preview"]) {
        const name = `${row.model}${suffix}`;
        const expected = vendorUsd(row.provider, name, usages[0] as TokenUsage);
        if (expected === undefined) continue; // the table may know more aliases than the source data
        const price = findPrice(row.provider, name);
        const ours = price === undefined ? undefined : costNanoUsd(price, usages[0] as TokenUsage).costNanoUsd;
        if (ours === undefined || Math.abs(ours - expected * NANO_USD_PER_USD) > 1 + 1e-3) {
          disagreements.push(`${row.provider} ${name}: ours ${ours ?? "none"}, theirs ${expected}`);
        }
      }
    }
    // The one name the source prices and the table does not: a deprecated preview left out on purpose.
    expect(disagreements).toEqual([expect.stringMatching(/^google gemini-2\.5-flash-preview: ours none/)]);
  });
});
