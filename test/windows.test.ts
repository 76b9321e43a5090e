import { createMemoryStore, guardedClient, LimitExceededError } from "@tollgate/core";
import { type FakeProviders, startFakeProviders } from "@tollgate/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createClients } from "./clients";

let fake: FakeProviders;
beforeAll(async () => {
  fake = await startFakeProviders();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

function fakeClock(isoTime: string) {
  let now = Date.parse(isoTime);
  return {
    now: () => now,
    set: (time: string) => (now = Date.parse(time)),
    advance: (milliseconds: number) => (now += milliseconds),
  };
}

const chat = { model: "gpt-4o-mini", max_tokens: 10, messages: [{ role: "user" as const, content: "hi" }] };

describe("windows and periods with a fake clock", () => {
  it("a daily quota resets at midnight in the configured time zone, not UTC", async () => {
    const clock = fakeClock("2026-11-28T20:00:00Z"); // 21:00 in Berlin
    const { openai } = createClients(fake);
    const guard = guardedClient({
      providers: { openai },
      store: createMemoryStore({ clock: clock.now }),
      clock: clock.now,
      limits: [{ id: "daily", scope: "user", requests: 2, period: "day", timeZone: "Europe/Berlin" }],
    });
    const ai = guard.for({ user: "u" });
    await ai.openai.chat.completions.create(chat);
    await ai.openai.chat.completions.create(chat);
    const refused = await ai.openai.chat.completions.create(chat).catch((error: unknown) => error);
    expect(LimitExceededError.isInstance(refused) && refused.code).toBe("QUOTA_EXCEEDED");
    expect((refused as LimitExceededError).resetAt?.toISOString()).toBe("2026-11-28T23:00:00.000Z");
    clock.set("2026-11-28T22:59:59Z"); // still the 28th in Berlin
    await expect(ai.openai.chat.completions.create(chat)).rejects.toBeInstanceOf(LimitExceededError);
    clock.set("2026-11-28T23:00:00Z"); // midnight in Berlin, 23:00 in UTC
    await ai.openai.chat.completions.create(chat);
    expect(fake.requests).toHaveLength(3);
  });

  it("has no burst at a rolling window's boundary", async () => {
    const clock = fakeClock("2026-11-28T12:00:50Z");
    const { openai } = createClients(fake);
    const guard = guardedClient({
      providers: { openai },
      store: createMemoryStore({ clock: clock.now }),
      clock: clock.now,
      limits: [{ id: "rpm", scope: "user", requests: 5, per: "1m" }],
    });
    const ai = guard.for({ user: "u" });
    for (let call = 0; call < 5; call++) await ai.openai.chat.completions.create(chat);
    // A fixed window would reset at 12:01:00 and allow 5 more at once: 10 calls within 11 seconds.
    clock.set("2026-11-28T12:01:01Z");
    await expect(ai.openai.chat.completions.create(chat)).rejects.toMatchObject({ code: "RATE_LIMITED" });
    clock.set("2026-11-28T12:01:54Z"); // a full window (plus one 3 s slot) after the first five
    await ai.openai.chat.completions.create(chat);
    expect(fake.requests).toHaveLength(6);
  });

  it("a refund after the period rolled over frees nothing in the new period", async () => {
    const clock = fakeClock("2026-11-28T23:59:59Z");
    const { openai } = createClients(fake);
    const guard = guardedClient({
      providers: { openai },
      store: createMemoryStore({ clock: clock.now }),
      clock: clock.now,
      defaultMaxOutputTokens: 1_000,
      limits: [{ id: "daily-tokens", scope: "user", tokens: 1_100, period: "day" }],
    });
    const ai = guard.for({ user: "u" });
    // Reserved ~1 000 tokens before midnight; the stream is read after midnight and uses far fewer.
    fake.addRule({ usage: { inputTokens: 10, outputTokens: 10 } });
    const stream = await ai.openai.chat.completions.create({
      model: chat.model,
      messages: chat.messages,
      stream: true,
    });
    clock.set("2026-11-29T00:00:01Z");
    for await (const _chunk of stream) {
      // drain: settles now, in the new day, with a refund of ~980 tokens for yesterday
    }
    await guard.close();
    // Today's period starts empty and holds exactly its own capacity: a leaked refund would make room for more.
    const model = "gpt-4o-mini";
    expect((await guard.check({ user: "u" }, { model, inputTokens: 1_100 })).allowed).toBe(true);
    expect(await guard.check({ user: "u" }, { model, inputTokens: 1_101 })).toMatchObject({
      allowed: false,
      limitId: "daily-tokens",
    });
  });
});
