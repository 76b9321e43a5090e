import { type GuardEvent, guardedClient, type UsageRecord } from "@tollgate/core";
import { type FakeProviders, startFakeProviders } from "@tollgate/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createClients } from "./clients";

let fake: FakeProviders;
beforeAll(async () => {
  fake = await startFakeProviders({ defaultOutputTokens: 50 });
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  // A slow stream, so the caller can walk away mid-way.
  fake.addRule({ fault: { chunkDelayMs: 5 } });
});

function setup() {
  const clients = createClients(fake);
  const settled: UsageRecord[] = [];
  const onEvent = (event: GuardEvent) => {
    if (event.type === "call.settled") settled.push(event.record);
  };
  const limits = [{ id: "one-at-a-time", scope: "user", concurrent: 1 }] as const;
  const guard = guardedClient({
    providers: { openai: clients.openai, anthropic: clients.anthropic, google: clients.genai },
    limits,
    onEvent,
  });
  const legacy = guardedClient({ providers: { google: clients.legacyGoogle }, limits, onEvent });
  return { guard, legacy, settled };
}

/** Settlement runs after the SDK let go of the stream; wait for it like a caller of guard.close() would. */
async function settle(...guards: { close(): Promise<void> }[]) {
  await fake.waitForIdle();
  for (let attempt = 0; attempt < 50; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    for (const guard of guards) await guard.close();
  }
}

function expectPartial(record: UsageRecord | undefined, fullOutput: number) {
  expect(record).toBeDefined();
  expect(record!.estimated).toBe(true);
  expect(record!.status).toBe("aborted");
  expect(record!.inputTokens).toBeGreaterThan(0);
  expect(record!.outputTokens).toBeGreaterThan(0);
  expect(record!.outputTokens).toBeLessThan(fullOutput);
}

describe("an aborted stream settles with its partial usage and frees its slot", () => {
  it("OpenAI chat: break out of the loop", async () => {
    const { guard, settled } = setup();
    const ai = guard.for({ user: "u" });
    const stream = await ai.openai.chat.completions.create({
      model: "gpt-4o-mini",
      max_tokens: 50,
      stream: true,
      messages: [{ role: "user", content: "count" }],
    });
    let chunks = 0;
    for await (const _chunk of stream) if (++chunks === 5) break;
    await settle(guard);
    expect(fake.requests[0]!.clientClosedEarly).toBe(true);
    expectPartial(settled[0], 50);
    // The concurrency slot is free again: a second call is admitted.
    await ai.openai.chat.completions.create({
      model: "gpt-4o-mini",
      max_tokens: 5,
      messages: [{ role: "user", content: "x" }],
    });
  });

  it("Anthropic: MessageStream.abort()", async () => {
    const { guard, settled } = setup();
    const ai = guard.for({ user: "u" });
    const stream = ai.anthropic.messages.stream({
      model: "claude-haiku-4-5",
      max_tokens: 50,
      messages: [{ role: "user", content: "count" }],
    });
    let texts = 0;
    stream.on("text", () => {
      if (++texts === 5) stream.abort();
    });
    await expect(stream.finalMessage()).rejects.toThrow();
    await settle(guard);
    expectPartial(settled[0], 50);
    // Anthropic reports input in message_start, so the input is exact even though the call was cut.
    // "count" is 5 characters: the fake reports ceil(5 / 4) = 2 input tokens; our own estimate would be 9.
    expect(settled[0]!.inputTokens).toBe(2);
    await ai.anthropic.messages.create({
      model: "claude-haiku-4-5",
      max_tokens: 5,
      messages: [{ role: "user", content: "x" }],
    });
  });

  it("Gemini via @google/genai: abortSignal", async () => {
    const { guard, settled } = setup();
    const ai = guard.for({ user: "u" });
    const controller = new AbortController();
    const stream = await ai.google.models.generateContentStream({
      model: "gemini-2.5-flash",
      contents: "count",
      config: { maxOutputTokens: 50, abortSignal: controller.signal },
    });
    let chunks = 0;
    await expect(
      (async () => {
        for await (const _chunk of stream) if (++chunks === 5) controller.abort();
      })(),
    ).rejects.toThrow();
    await settle(guard);
    expectPartial(settled[0], 50);
    await ai.google.models.generateContent({
      model: "gemini-2.5-flash",
      contents: "x",
      config: { maxOutputTokens: 5 },
    });
  });

  it("Gemini via @google/genai: the caller stops reading", async () => {
    const { guard, settled } = setup();
    const ai = guard.for({ user: "u" });
    const stream = await ai.google.models.generateContentStream({
      model: "gemini-2.5-flash",
      contents: "count",
      config: { maxOutputTokens: 50 },
    });
    let chunks = 0;
    for await (const _chunk of stream) if (++chunks === 5) break;
    await settle(guard);
    expectPartial(settled[0], 50);
    await ai.google.models.generateContent({
      model: "gemini-2.5-flash",
      contents: "x",
      config: { maxOutputTokens: 5 },
    });
  });

  it("Gemini via @google/generative-ai: request signal", async () => {
    const { legacy, settled } = setup();
    const ai = legacy.for({ user: "u" });
    const model = ai.google.getGenerativeModel(
      { model: "gemini-2.5-flash", generationConfig: { maxOutputTokens: 50 } },
      { baseUrl: fake.googleBaseUrl },
    );
    const controller = new AbortController();
    const result = await model.generateContentStream("count", { signal: controller.signal });
    result.response.catch(() => undefined);
    let chunks = 0;
    await expect(
      (async () => {
        for await (const _chunk of result.stream) if (++chunks === 5) controller.abort();
      })(),
    ).rejects.toThrow();
    await settle(legacy);
    expectPartial(settled[0], 50);
    await model.generateContent("x");
  });

  it("a stream cut by the network settles as aborted, never as free", async () => {
    const { guard, settled } = setup();
    fake.addRule({ fault: { cutAfterChunks: 4 } });
    const stream = await guard.for({ user: "u" }).openai.chat.completions.create({
      model: "gpt-4o-mini",
      max_tokens: 50,
      stream: true,
      messages: [{ role: "user", content: "count" }],
    });
    await expect(
      (async () => {
        for await (const _chunk of stream) {
          // read until the cut
        }
      })(),
    ).rejects.toThrow();
    await settle(guard);
    expectPartial(settled[0], 50);
  });

  it("a response without usage keeps the full reservation", async () => {
    const { guard, settled } = setup();
    fake.addRule({ fault: { omitUsage: true } });
    await guard.for({ user: "u" }).openai.chat.completions.create({
      model: "gpt-4o-mini",
      max_tokens: 50,
      messages: [{ role: "user", content: "count" }],
    });
    await settle(guard);
    expect(settled[0]).toMatchObject({ estimated: true, outputTokens: 50, status: "ok" });
    expect(settled[0]!.costNanoUsd).toBeGreaterThan(0);
  });
});
