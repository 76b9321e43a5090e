import Anthropic from "@anthropic-ai/sdk";
import { type GuardEvent, guardedClient, type UsageRecord } from "@tollgate/core";
import { type FakeProviders, startFakeProviders } from "@tollgate/testing";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createClients } from "./clients";

let fake: FakeProviders;
beforeAll(async () => {
  fake = await startFakeProviders();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

function setup(maxRetries = 0) {
  const clients = createClients(fake, maxRetries);
  const settled: UsageRecord[] = [];
  const guard = guardedClient({
    providers: { openai: clients.openai, anthropic: clients.anthropic },
    prices: { "gpt-4o-mini": { input: 1, output: 2 }, "claude-haiku-4-5": { input: 1, output: 5 } },
    limits: [
      { id: "parallel", scope: "user", concurrent: 1 },
      { id: "daily", scope: "user", usd: 10, period: "day" },
    ],
    onEvent: (event: GuardEvent) => {
      if (event.type === "call.settled") settled.push(event.record);
    },
  });
  return { ai: guard.for({ user: "u" }), guard, settled };
}

const chat = { model: "gpt-4o-mini", max_tokens: 20, messages: [{ role: "user" as const, content: "hi" }] };
const message = { model: "claude-haiku-4-5", max_tokens: 20, messages: [{ role: "user" as const, content: "hi" }] };

describe("provider faults settle correctly", () => {
  it("Anthropic 529 overloaded: the SDK's own error, settled at zero, slot freed", async () => {
    const { ai, guard, settled } = setup();
    fake.addRule({ fault: { status: 529 }, times: 1 });
    await expect(ai.anthropic.messages.create(message)).rejects.toBeInstanceOf(Anthropic.APIError);
    await guard.close();
    expect(settled[0]).toMatchObject({ status: "error", inputTokens: 0, outputTokens: 0, costNanoUsd: 0 });
    await ai.anthropic.messages.create(message);
  });

  it("a 429 with retry-after, retried by the SDK, charges once", async () => {
    const { ai, guard, settled } = setup(1);
    fake.addRule({ fault: { status: 429, retryAfterSeconds: 0 }, times: 1 });
    await ai.openai.chat.completions.create(chat);
    await guard.close();
    expect(fake.requests.map((request) => request.status)).toEqual([429, 200]);
    expect(settled).toHaveLength(1);
    expect(settled[0]!.status).toBe("ok");
  });

  it("x-should-retry: false is obeyed and settles at zero", async () => {
    const { ai, guard, settled } = setup(2);
    fake.addRule({ fault: { status: 500, shouldRetry: false }, times: 1 });
    await expect(ai.openai.chat.completions.create(chat)).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    await guard.close();
    expect(fake.requests).toHaveLength(1);
    expect(settled[0]!.costNanoUsd).toBe(0);
  });

  it("a client timeout before the response settles as aborted: input charged, nothing free", async () => {
    const { guard, settled } = setup();
    fake.addRule({ fault: { latencyMs: 500 }, times: 1 });
    const ai = guard.for({ user: "u" });
    await expect(ai.openai.chat.completions.create(chat, { timeout: 100 })).rejects.toBeInstanceOf(
      OpenAI.APIConnectionTimeoutError,
    );
    await guard.close();
    expect(settled[0]!.status).not.toBe("ok");
  });

  it("a malformed SSE event mid-stream settles with what was seen", async () => {
    const { ai, guard, settled } = setup();
    fake.addRule({ fault: { malformedStream: true } });
    const stream = await ai.openai.chat.completions.create({ ...chat, stream: true });
    await expect(
      (async () => {
        for await (const _chunk of stream) {
          // read until the garbage
        }
      })(),
    ).rejects.toThrow();
    await fake.waitForIdle();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await guard.close();
    expect(settled).toHaveLength(1);
    expect(settled[0]!.status).toBe("aborted");
    // The garbage event does not stop the bytes: the final usage chunk the fake still sent is charged exactly.
    expect(settled[0]!.inputTokens).toBe(fake.requests[0]!.usage!.inputTokens);
    expect(settled[0]!.outputTokens).toBe(fake.requests[0]!.usage!.outputTokens);
  });

  it("usage larger than the reservation is charged in full, never capped at the estimate", async () => {
    const { ai, guard, settled } = setup();
    fake.addRule({ usage: { inputTokens: 50_000, outputTokens: 20 } }); // far more input than the estimate of "hi"
    await ai.openai.chat.completions.create(chat);
    await guard.close();
    expect(settled[0]).toMatchObject({ inputTokens: 50_000, estimated: false });
    expect(settled[0]!.costNanoUsd).toBe((50_000 * 1 + 20 * 2) * 1000);
    const [row] = await guard.usage();
    expect(row!.costNanoUsd).toBe(settled[0]!.costNanoUsd);
  });
});
