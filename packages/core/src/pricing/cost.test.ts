import { describe, expect, it } from "vitest";
import type { TokenUsage } from "../usage/token-usage";
import { costNanoUsd, formatUsd, NANO_USD_PER_USD, worstCaseCostNanoUsd } from "./cost";
import { findPrice } from "./find-price";
import type { ModelPrice } from "./model-price";

function tablePrice(provider: ModelPrice["provider"], model: string): ModelPrice {
  const price = findPrice(provider, model);
  if (price === undefined) throw new Error(`no price for ${provider}/${model}`);
  return price;
}

function custom(fields: Partial<ModelPrice> = {}): ModelPrice {
  return { provider: "openai", model: "test-model", match: "exact", input: 1, output: 10, ...fields };
}

const MILLION = 1_000_000;

describe("costNanoUsd with bundled prices", () => {
  it("prices gpt-4o at $2.50 / $10 per 1M tokens: 1M in + 1M out is exactly $12.50", () => {
    const cost = costNanoUsd(tablePrice("openai", "gpt-4o"), { inputTokens: MILLION, outputTokens: MILLION });
    expect(cost).toEqual({ costNanoUsd: 12_500_000_000, complete: true });
    expect(cost.costNanoUsd / NANO_USD_PER_USD).toBe(12.5);
  });

  it("prices gpt-4o-mini at $0.15 / $0.60, cached input at $0.075", () => {
    const price = tablePrice("openai", "gpt-4o-mini");
    expect(costNanoUsd(price, { inputTokens: MILLION, outputTokens: MILLION }).costNanoUsd).toBe(750_000_000);
    expect(costNanoUsd(price, { inputTokens: 1000, outputTokens: 500 }).costNanoUsd).toBe(450_000);
    // 600 uncached × 0.15 + 400 cached × 0.075 = 120 µUSD
    expect(costNanoUsd(price, { inputTokens: 1000, cachedInputTokens: 400, outputTokens: 0 }).costNanoUsd).toBe(
      120_000,
    );
  });

  it("prices claude-sonnet-4-5 above 200k input tokens at the long-context tier, for the whole call", () => {
    const price = tablePrice("anthropic", "claude-sonnet-4-5-20250929");
    // At exactly 200,000 input tokens the base rates still apply ($3 / $15).
    expect(costNanoUsd(price, { inputTokens: 200_000, outputTokens: 1000 }).costNanoUsd).toBe(615_000_000);
    // One token more and every token is billed at $6 / $22.50.
    expect(costNanoUsd(price, { inputTokens: 200_001, outputTokens: 1000 }).costNanoUsd).toBe(1_222_506_000);
    // Cached tokens count towards the threshold and are billed at the tier's cache-read rate ($0.60).
    expect(costNanoUsd(price, { inputTokens: 250_000, cachedInputTokens: 100_000, outputTokens: 0 }).costNanoUsd).toBe(
      960_000_000,
    );
  });

  it("prices gemini-2.5-flash cache reads at $0.03 per 1M tokens", () => {
    const price = tablePrice("google", "models/gemini-2.5-flash");
    expect(price).toMatchObject({ input: 0.3, cachedInput: 0.03, output: 2.5 });
    // 2,000 × 0.30 + 8,000 × 0.03 + 1,000 × 2.50 = 3,340 µUSD
    const usage: TokenUsage = { inputTokens: 10_000, cachedInputTokens: 8_000, outputTokens: 1_000 };
    expect(costNanoUsd(price, usage).costNanoUsd).toBe(3_340_000);
  });

  it("prices Anthropic 5-minute cache writes at 1.25× input and 1-hour writes at 2×", () => {
    const price = tablePrice("anthropic", "claude-sonnet-4-5");
    // 1,000 × $3 + 9,000 × $3.75
    expect(costNanoUsd(price, { inputTokens: 10_000, cacheWriteInputTokens: 9_000, outputTokens: 0 }).costNanoUsd).toBe(
      36_750_000,
    );
    // 1,000 × $3 + 9,000 × $6
    expect(
      costNanoUsd(price, { inputTokens: 10_000, cacheWrite1hInputTokens: 9_000, outputTokens: 0 }).costNanoUsd,
    ).toBe(57_000_000);
  });

  it("prices gpt-5.4 at its long-context rates from exactly 272,000 input tokens", () => {
    const price = tablePrice("openai", "gpt-5.4");
    expect(costNanoUsd(price, { inputTokens: 271_999, outputTokens: 0 }).costNanoUsd).toBe(271_999 * 2_500);
    expect(costNanoUsd(price, { inputTokens: 272_000, outputTokens: 0 }).costNanoUsd).toBe(272_000 * 5_000);
  });
});

describe("costNanoUsd rules", () => {
  it("falls back: cached and cache writes to input, 1-hour writes to 5-minute writes", () => {
    const usage: TokenUsage = {
      inputTokens: 4_000,
      cachedInputTokens: 1_000,
      cacheWriteInputTokens: 1_000,
      cacheWrite1hInputTokens: 1_000,
      outputTokens: 0,
    };
    expect(costNanoUsd(custom({ input: 1 }), usage).costNanoUsd).toBe(4_000_000);
    expect(costNanoUsd(custom({ input: 1, cacheWrite: 2 }), usage).costNanoUsd).toBe(1_000_000 * (1 + 1 + 2 + 2));
    expect(costNanoUsd(custom({ input: 1, cacheWrite: 2, cacheWrite1h: 3 }), usage).costNanoUsd).toBe(7_000_000);
  });

  it("bills reasoning tokens at reasoningOutput when the price has one, else as output", () => {
    const usage: TokenUsage = { inputTokens: 0, outputTokens: 1_000, reasoningTokens: 400 };
    expect(costNanoUsd(custom({ output: 10, reasoningOutput: 5 }), usage).costNanoUsd).toBe(8_000_000);
    expect(costNanoUsd(custom({ output: 10 }), usage).costNanoUsd).toBe(10_000_000);
  });

  it("picks the tier with the highest minInputTokens not above the input, whatever the order", () => {
    const price = custom({
      input: 1,
      output: 1,
      tiers: [
        { minInputTokens: 300, input: 3, output: 3 },
        { minInputTokens: 200, input: 2, output: 2, cachedInput: 0.5 },
      ],
    });
    expect(costNanoUsd(price, { inputTokens: 199, outputTokens: 0 }).costNanoUsd).toBe(199 * 1_000);
    expect(costNanoUsd(price, { inputTokens: 200, outputTokens: 0 }).costNanoUsd).toBe(200 * 2_000);
    expect(costNanoUsd(price, { inputTokens: 299, outputTokens: 1 }).costNanoUsd).toBe(300 * 2_000);
    expect(costNanoUsd(price, { inputTokens: 300, outputTokens: 0 }).costNanoUsd).toBe(300 * 3_000);
    // A rate a tier leaves out falls back inside the tier: cached input at the tier's input (3), not base.
    expect(costNanoUsd(price, { inputTokens: 300, cachedInputTokens: 300, outputTokens: 0 }).costNanoUsd).toBe(
      300 * 3_000,
    );
    expect(costNanoUsd(price, { inputTokens: 200, cachedInputTokens: 200, outputTokens: 0 }).costNanoUsd).toBe(
      200 * 500,
    );
  });

  it("bills reasoning at the tier's output inside a tier", () => {
    const price = custom({ output: 10, reasoningOutput: 5, tiers: [{ minInputTokens: 100, input: 1, output: 20 }] });
    expect(costNanoUsd(price, { inputTokens: 100, outputTokens: 10, reasoningTokens: 10 }).costNanoUsd).toBe(
      100 * 1_000 + 10 * 20_000,
    );
  });

  it("counts an unknown total as 0, still bills its known parts, and reports the cost incomplete", () => {
    const price = custom({ input: 1, output: 10, cachedInput: 0.5 });
    expect(costNanoUsd(price, { inputTokens: undefined, outputTokens: 100 })).toEqual({
      costNanoUsd: 1_000_000,
      complete: false,
    });
    expect(costNanoUsd(price, { inputTokens: 100, outputTokens: undefined })).toEqual({
      costNanoUsd: 100_000,
      complete: false,
    });
    expect(costNanoUsd(price, { inputTokens: undefined, cachedInputTokens: 100, outputTokens: 0 })).toEqual({
      costNanoUsd: 50_000,
      complete: false,
    });
    expect(costNanoUsd(price, { inputTokens: Number.NaN, outputTokens: -1 })).toEqual({
      costNanoUsd: 0,
      complete: false,
    });
  });

  it("bills parts that exceed their total in full instead of going negative", () => {
    const price = custom({ input: 1, output: 10, cachedInput: 0.5 });
    expect(costNanoUsd(price, { inputTokens: 10, cachedInputTokens: 100, outputTokens: 0 }).costNanoUsd).toBe(50_000);
    expect(costNanoUsd(price, { inputTokens: 0, outputTokens: 10, reasoningTokens: 20 }).costNanoUsd).toBe(200_000);
  });

  it("rounds fractional token counts up", () => {
    expect(costNanoUsd(custom({ input: 1 }), { inputTokens: 1.2, outputTokens: 0 }).costNanoUsd).toBe(2_000);
  });

  it("rejects a negative or non-finite rate", () => {
    expect(() => costNanoUsd(custom({ input: -1 }), { inputTokens: 1, outputTokens: 0 })).toThrow(RangeError);
    expect(() => costNanoUsd(custom({ output: Number.NaN }), { inputTokens: 1, outputTokens: 0 })).toThrow(RangeError);
  });

  it("has no float error from prices such as 0.07 or 0.29", () => {
    for (const usdPerMTok of [0.07, 0.29, 0.1, 0.2, 0.3, 0.01875, 0.0375, 3.125, 0.039]) {
      const { costNanoUsd: nano } = costNanoUsd(custom({ input: usdPerMTok }), {
        inputTokens: MILLION,
        outputTokens: 0,
      });
      expect(nano).toBe(Math.round(usdPerMTok * NANO_USD_PER_USD));
    }
    // 0.1 + 0.2 USD per 1M tokens, for 1M tokens each: exactly $0.30, not 0.30000000000000004.
    const price = custom({ input: 0.1, output: 0.2 });
    expect(costNanoUsd(price, { inputTokens: MILLION, outputTokens: MILLION }).costNanoUsd).toBe(300_000_000);
  });

  it("stays exact beyond 2^53 pico-USD", () => {
    const price = custom({ input: 150, output: 600 });
    const usage: TokenUsage = { inputTokens: 1_000_000_000, outputTokens: 1_000_001_001 };
    // 1e9 × $150/M = $150,000; 1,000,001,001 × $600/M = $600,000.6006
    expect(costNanoUsd(price, usage).costNanoUsd).toBe(750_000_600_600_000);
  });
});

describe("rounding: once per call, up", () => {
  it("sums 1 million 1-token calls to exactly one 1M-token call when a token is a whole nano-USD", () => {
    const price = tablePrice("openai", "gpt-4o-mini"); // $0.15 per 1M input tokens = 150 nano-USD per token
    let total = 0;
    for (let call = 0; call < MILLION; call++) {
      total += costNanoUsd(price, { inputTokens: 1, outputTokens: 0 }).costNanoUsd;
    }
    expect(total).toBe(costNanoUsd(price, { inputTokens: MILLION, outputTokens: 0 }).costNanoUsd);
    expect(total).toBe(150_000_000);

    let floatTotal = 0;
    for (let call = 0; call < MILLION; call++) floatTotal += (1 * 0.15) / MILLION;
    expect(floatTotal).not.toBe(0.15); // why the ledger is kept in integers
  });

  it("charges up to 1 nano-USD more per call when a call's exact cost is a fraction of a nano-USD", () => {
    const price = custom({ input: 0.0375, output: 0 }); // 37.5 nano-USD per token
    let total = 0;
    for (let call = 0; call < MILLION; call++) {
      total += costNanoUsd(price, { inputTokens: 1, outputTokens: 0 }).costNanoUsd;
    }
    const single = costNanoUsd(price, { inputTokens: MILLION, outputTokens: 0 }).costNanoUsd;
    expect(single).toBe(37_500_000);
    expect(total).toBe(38_000_000); // each call rounds 37.5 up to 38
    expect(total - single).toBeLessThan(MILLION);
  });

  it("rounds the exact sum once, not each product", () => {
    // 1 token at 0.0004 USD/M (0.4 nano) + 1 token at 0.0004 USD/M: 0.8 nano → 1, not 1 + 1.
    const price = custom({ input: 0.0004, output: 0.0004 });
    expect(costNanoUsd(price, { inputTokens: 1, outputTokens: 1 }).costNanoUsd).toBe(1);
  });
});

describe("worstCaseCostNanoUsd", () => {
  it("prices input at the dearest input rate and output at max(output, reasoningOutput)", () => {
    expect(worstCaseCostNanoUsd(tablePrice("openai", "gpt-4o"), 1_000, 500)).toBe(7_500_000);
    // claude-sonnet-4-5: max($3, $0.30, $3.75, $6) = $6 input
    expect(worstCaseCostNanoUsd(tablePrice("anthropic", "claude-sonnet-4-5"), 1_000, 500)).toBe(13_500_000);
    // Above 200k: $12 (1-hour writes in the tier), output $22.50
    expect(worstCaseCostNanoUsd(tablePrice("anthropic", "claude-sonnet-4-5"), 300_000, 1_000)).toBe(3_622_500_000);
    expect(worstCaseCostNanoUsd(custom({ output: 10, reasoningOutput: 15 }), 0, 1_000)).toBe(15_000_000);
  });

  it("is never below costNanoUsd for the same input and at most maxOutputTokens output", () => {
    let seed = 42;
    const random = (limit: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % (limit + 1);
    };
    const prices = [
      tablePrice("anthropic", "claude-sonnet-4-5"),
      tablePrice("google", "gemini-2.5-pro"),
      tablePrice("openai", "gpt-5.4"),
      custom({ input: 1, output: 2, reasoningOutput: 8, cacheWrite: 1.5 }),
    ];
    for (let round = 0; round < 2_000; round++) {
      const price = prices[round % prices.length] as ModelPrice;
      const cached = random(150_000);
      const cacheWrite = random(50_000);
      const cacheWrite1h = random(50_000);
      const inputTokens = cached + cacheWrite + cacheWrite1h + random(150_000);
      const maxOutputTokens = random(20_000);
      const outputTokens = random(maxOutputTokens);
      const usage: TokenUsage = {
        inputTokens,
        cachedInputTokens: cached,
        cacheWriteInputTokens: cacheWrite,
        cacheWrite1hInputTokens: cacheWrite1h,
        outputTokens,
        reasoningTokens: random(outputTokens),
      };
      expect(costNanoUsd(price, usage).costNanoUsd).toBeLessThanOrEqual(
        worstCaseCostNanoUsd(price, inputTokens, maxOutputTokens),
      );
    }
  });

  it("rejects counts that are negative or not finite", () => {
    const price = custom();
    expect(() => worstCaseCostNanoUsd(price, -1, 10)).toThrow(RangeError);
    expect(() => worstCaseCostNanoUsd(price, 10, Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});

describe("formatUsd", () => {
  it.each([
    [0, "$0.00"],
    [12_500_000_000, "$12.50"],
    [1_000_000_000, "$1.00"],
    [12_300_000, "$0.0123"],
    [12_345_678, "$0.0123"],
    [12_350_000, "$0.0124"],
    [100_000, "$0.0001"],
    [50_000, "$0.0001"],
    [49_999, "$0.000049999"],
    [2_500, "$0.0000025"],
    [1, "$0.000000001"],
    [-500_000_000, "-$0.50"],
    [1_234_567_890_000, "$1234.5679"],
  ])("formats %d nano-USD as %s", (nano, text) => {
    expect(formatUsd(nano)).toBe(text);
  });
});
