import { type GuardEvent, guardedClient, type UsageRecord } from "@tollgate/core";
import { type FakeProviders, startFakeProviders } from "@tollgate/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createClients } from "./clients";

// Round prices (USD per 1M tokens) so the expected cost is plain arithmetic, independent of our cost code.
const prices = {
  "gpt-4o-mini": { input: 1, output: 2, cachedInput: 0.5 },
  "claude-haiku-4-5": { input: 1, output: 4, cachedInput: 0.25, cacheWrite: 1.5, cacheWrite1h: 3 },
  "gemini-2.5-flash": { input: 1, output: 3, cachedInput: 0.5 },
};
const usage = {
  inputTokens: 1200,
  cachedInputTokens: 200,
  cacheWriteInputTokens: 300,
  cacheWrite1hInputTokens: 100,
  outputTokens: 40,
  reasoningTokens: 10,
};

let fake: FakeProviders;
const settled: UsageRecord[] = [];

beforeAll(async () => {
  fake = await startFakeProviders();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  settled.length = 0;
});

function setup() {
  const clients = createClients(fake);
  const guard = guardedClient({
    providers: { openai: clients.openai, anthropic: clients.anthropic, google: clients.genai },
    prices,
    limits: [{ id: "daily-usd", scope: "user", usd: 100, period: "day" }],
    onEvent: (event: GuardEvent) => {
      if (event.type === "call.settled") settled.push(event.record);
    },
  });
  const legacy = guardedClient({
    providers: { google: clients.legacyGoogle },
    prices,
    limits: [{ id: "daily-usd", scope: "user", usd: 100, period: "day" }],
    onEvent: (event: GuardEvent) => {
      if (event.type === "call.settled") settled.push(event.record);
    },
  });
  return { ai: guard.for({ user: "u1" }), legacy: legacy.for({ user: "u1" }), guard, legacyGuard: legacy };
}

/** The cost in nano-USD from the rule's usage and the price, by hand: each kind of token at its own rate. */
function expectedCost(
  price: { input: number; output: number; cachedInput: number; cacheWrite?: number; cacheWrite1h?: number },
  counted: typeof usage,
  hasCacheWrites: boolean,
) {
  const writes5m = hasCacheWrites ? counted.cacheWriteInputTokens : 0;
  const writes1h = hasCacheWrites ? counted.cacheWrite1hInputTokens : 0;
  const uncached = counted.inputTokens - counted.cachedInputTokens - writes5m - writes1h;
  return (
    uncached * price.input * 1000 +
    counted.cachedInputTokens * price.cachedInput * 1000 +
    writes5m * (price.cacheWrite ?? 0) * 1000 +
    writes1h * (price.cacheWrite1h ?? 0) * 1000 +
    counted.outputTokens * price.output * 1000
  );
}

describe("recorded usage equals the provider's usage exactly", () => {
  it.each([false, true])("OpenAI chat (stream: %s)", async (stream) => {
    const { ai, guard } = setup();
    fake.addRule({ usage: { ...usage, cacheWriteInputTokens: 0, cacheWrite1hInputTokens: 0 } });
    const messages = [{ role: "user" as const, content: "Hello there" }];
    if (stream) {
      const chunks = await ai.openai.chat.completions.create({ model: "gpt-4o-mini", messages, stream: true });
      let sawUsageChunk = false;
      for await (const chunk of chunks) if (chunk.choices.length === 0) sawUsageChunk = true;
      // Tollgate asked for usage on the caller's behalf; the caller, who did not, never sees that chunk.
      expect(sawUsageChunk).toBe(false);
    } else {
      await ai.openai.chat.completions.create({ model: "gpt-4o-mini", messages });
    }
    await guard.close();
    expect(settled).toHaveLength(1);
    const record = settled[0]!;
    expect(record).toMatchObject({
      provider: "openai",
      model: "gpt-4o-mini",
      inputTokens: 1200,
      cachedInputTokens: 200,
      outputTokens: 40,
      reasoningTokens: 10,
      estimated: false,
      status: "ok",
    });
    expect(record.costNanoUsd).toBe(expectedCost(prices["gpt-4o-mini"], usage, false));
    expect(fake.requests[0]!.usage?.inputTokens).toBe(1200);
  });

  it.each([false, true])("OpenAI responses (stream: %s)", async (stream) => {
    const { ai, guard } = setup();
    fake.addRule({ usage: { ...usage, cacheWriteInputTokens: 0, cacheWrite1hInputTokens: 0 } });
    if (stream) {
      const events = await ai.openai.responses.create({ model: "gpt-4o-mini", input: "Hi", stream: true });
      for await (const _event of events) {
        // drain
      }
    } else {
      await ai.openai.responses.create({ model: "gpt-4o-mini", input: "Hi" });
    }
    await guard.close();
    expect(settled[0]).toMatchObject({
      inputTokens: 1200,
      cachedInputTokens: 200,
      outputTokens: 40,
      reasoningTokens: 10,
    });
    expect(settled[0]!.costNanoUsd).toBe(expectedCost(prices["gpt-4o-mini"], usage, false));
  });

  it.each([false, true])("Anthropic messages with 5m and 1h cache writes (stream: %s)", async (stream) => {
    const { ai, guard } = setup();
    fake.addRule({ usage: { ...usage, reasoningTokens: 0 } });
    const params = { model: "claude-haiku-4-5", max_tokens: 100, messages: [{ role: "user" as const, content: "Hi" }] };
    if (stream) {
      const message = await ai.anthropic.messages.stream(params).finalMessage();
      expect(message.usage.cache_read_input_tokens).toBe(200);
    } else {
      await ai.anthropic.messages.create(params);
    }
    await guard.close();
    expect(settled[0]).toMatchObject({
      inputTokens: 1200,
      cachedInputTokens: 200,
      cacheWriteInputTokens: 400,
      outputTokens: 40,
      estimated: false,
    });
    expect(settled[0]!.costNanoUsd).toBe(expectedCost(prices["claude-haiku-4-5"], usage, true));
  });

  it.each([false, true])("Gemini via @google/genai (stream: %s)", async (stream) => {
    const { ai, guard } = setup();
    fake.addRule({ usage: { ...usage, cacheWriteInputTokens: 0, cacheWrite1hInputTokens: 0 } });
    if (stream) {
      const chunks = await ai.google.models.generateContentStream({ model: "gemini-2.5-flash", contents: "Hi" });
      for await (const _chunk of chunks) {
        // drain
      }
    } else {
      await ai.google.models.generateContent({ model: "gemini-2.5-flash", contents: "Hi" });
    }
    await guard.close();
    expect(settled[0]).toMatchObject({
      inputTokens: 1200,
      cachedInputTokens: 200,
      outputTokens: 40,
      reasoningTokens: 10,
    });
    expect(settled[0]!.costNanoUsd).toBe(expectedCost(prices["gemini-2.5-flash"], usage, false));
  });

  it.each([false, true])("Gemini via the deprecated @google/generative-ai (stream: %s)", async (stream) => {
    const { legacy, legacyGuard } = setup();
    fake.addRule({ usage: { ...usage, cacheWriteInputTokens: 0, cacheWrite1hInputTokens: 0 } });
    const model = legacy.google.getGenerativeModel({ model: "gemini-2.5-flash" }, { baseUrl: fake.googleBaseUrl });
    if (stream) {
      const result = await model.generateContentStream("Hi");
      for await (const _chunk of result.stream) {
        // drain
      }
      await result.response;
    } else {
      await model.generateContent("Hi");
    }
    await legacyGuard.close();
    await new Promise((resolve) => setTimeout(resolve, 10));
    await legacyGuard.close();
    expect(settled[0]).toMatchObject({
      inputTokens: 1200,
      cachedInputTokens: 200,
      outputTokens: 40,
      reasoningTokens: 10,
    });
    expect(settled[0]!.costNanoUsd).toBe(expectedCost(prices["gemini-2.5-flash"], usage, false));
  });

  it("reports the same totals through guard.usage()", async () => {
    const { ai, guard } = setup();
    fake.addRule({ usage: { inputTokens: 100, outputTokens: 10 } });
    await ai.openai.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "a" }] });
    await ai.google.models.generateContent({ model: "gemini-2.5-flash", contents: "b" });
    await guard.close();
    const rows = await guard.usage({ groupBy: ["user", "model"] });
    expect(rows.map((row) => [row.group.model, row.requests, row.inputTokens, row.outputTokens]).sort()).toEqual([
      ["gemini-2.5-flash", 1, 100, 10],
      ["gpt-4o-mini", 1, 100, 10],
    ]);
  });
});
