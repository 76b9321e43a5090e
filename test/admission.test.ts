import {
  ConfigurationError,
  type GuardEvent,
  guardedClient,
  LimitExceededError,
  SubjectScopeMissingError,
  UnguardedOperationError,
  UnknownModelError,
  type UsageRecord,
} from "@tollgate/core";
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

const chat = (content = "hello") => ({
  model: "gpt-4o-mini",
  max_tokens: 20,
  messages: [{ role: "user" as const, content }],
});

describe("admission", () => {
  it("200 concurrent calls by one user against requests: 50 admit exactly 50", async () => {
    const { openai } = createClients(fake);
    const guard = guardedClient({
      providers: { openai },
      limits: [{ id: "rpm", scope: "user", requests: 50, per: "1m" }],
    });
    const ai = guard.for({ user: "u1" });
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, index) => ai.openai.chat.completions.create(chat(`hello ${index}`))),
    );
    const admitted = results.filter((result) => result.status === "fulfilled").length;
    const refused = results.filter(
      (result) => result.status === "rejected" && LimitExceededError.isInstance(result.reason),
    ).length;
    expect(admitted).toBe(50);
    expect(refused).toBe(150);
    expect(fake.requests).toHaveLength(50);
    const error = (results.find((result) => result.status === "rejected") as PromiseRejectedResult).reason;
    expect(error).toMatchObject({ code: "RATE_LIMITED", limitId: "rpm", scope: "user", limit: 50 });
    expect(error.retryAfterMs).toBeGreaterThan(0);
  });

  it("under a usd limit the admitted worst case never exceeds it, and settled spend is the true spend", async () => {
    const { openai } = createClients(fake);
    const settled: UsageRecord[] = [];
    let reservedNanoUsd = 0;
    const guard = guardedClient({
      providers: { openai },
      prices: { "gpt-4o-mini": { input: 1, output: 2 } },
      limits: [{ id: "budget", scope: "user", usd: 0.001, period: "day" }],
      onEvent: (event: GuardEvent) => {
        if (event.type === "call.admitted") reservedNanoUsd += event.estimate.costNanoUsd;
        if (event.type === "call.settled") settled.push(event.record);
      },
    });
    const ai = guard.for({ user: "u1" });
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, index) => ai.openai.chat.completions.create(chat(`hello ${index}`))),
    );
    await guard.close();
    const admitted = results.filter((result) => result.status === "fulfilled").length;
    expect(admitted).toBeGreaterThan(0);
    expect(admitted).toBeLessThan(200);
    expect(reservedNanoUsd).toBeLessThanOrEqual(1_000_000);
    // True spend from the fake's reported usage at the configured prices, by hand.
    const trueSpend = fake.requests.reduce(
      (sum, request) => sum + (request.usage!.inputTokens * 1 + request.usage!.outputTokens * 2) * 1000,
      0,
    );
    expect(settled.reduce((sum, record) => sum + record.costNanoUsd, 0)).toBe(trueSpend);
    const [row] = await guard.usage({ groupBy: ["user"] });
    expect(row?.costNanoUsd).toBe(trueSpend);
    expect(row?.requests).toBe(admitted);
  });

  it("refuses a model without a price under a cost limit, and charges the configured fallback price", async () => {
    const { openai } = createClients(fake);
    const limits = [{ id: "budget", scope: "user", usd: 1, period: "day" }] as const;
    const strict = guardedClient({ providers: { openai }, limits });
    await expect(
      strict.for({ user: "u" }).openai.chat.completions.create({ ...chat(), model: "my-private-model" }),
    ).rejects.toBeInstanceOf(UnknownModelError);
    expect(fake.requests).toHaveLength(0);

    const settled: UsageRecord[] = [];
    const lenient = guardedClient({
      providers: { openai },
      limits,
      onUnknownModel: { price: { input: 10, output: 30 } },
      onEvent: (event) => {
        if (event.type === "call.settled") settled.push(event.record);
      },
    });
    await lenient.for({ user: "u" }).openai.chat.completions.create({ ...chat(), model: "my-private-model" });
    await lenient.close();
    const usage = fake.requests[0]!.usage!;
    expect(settled[0]!.costNanoUsd).toBe((usage.inputTokens * 10 + usage.outputTokens * 30) * 1000);
    expect(settled[0]!.costNanoUsd).toBeGreaterThan(0);
  });

  it("refuses a subject that lacks a scope a limit needs", async () => {
    const { openai } = createClients(fake);
    const guard = guardedClient({
      providers: { openai },
      limits: [{ id: "ip-rpm", scope: "ip", requests: 5, per: "1m" }],
    });
    await expect(guard.for({ user: "u" }).openai.chat.completions.create(chat())).rejects.toBeInstanceOf(
      SubjectScopeMissingError,
    );
    expect(fake.requests).toHaveLength(0);
  });

  it("refuses paid operations it cannot meter, unless allowed by name; free calls pass", async () => {
    const { openai } = createClients(fake);
    const guard = guardedClient({ providers: { openai } });
    const ai = guard.for({ user: "u" });
    await expect(ai.openai.images.generate({ prompt: "a cat", model: "dall-e-3" })).rejects.toBeInstanceOf(
      UnguardedOperationError,
    );
    const models = await ai.openai.models.list();
    expect(models.data.length).toBeGreaterThan(0);
    expect(fake.requests.map((request) => request.path)).toEqual(["/v1/models"]);
  });

  it("settles a provider error at zero tokens while it still counts as a request", async () => {
    const { openai } = createClients(fake);
    const settled: UsageRecord[] = [];
    const guard = guardedClient({
      providers: { openai },
      limits: [{ id: "rpm", scope: "user", requests: 2, per: "1m" }],
      onEvent: (event) => {
        if (event.type === "call.settled") settled.push(event.record);
      },
    });
    const ai = guard.for({ user: "u" });
    fake.addRule({ fault: { status: 500 }, times: 1 });
    await expect(ai.openai.chat.completions.create(chat())).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    await guard.close();
    expect(settled[0]).toMatchObject({ status: "error", inputTokens: 0, outputTokens: 0, costNanoUsd: 0 });
    await ai.openai.chat.completions.create(chat());
    await expect(ai.openai.chat.completions.create(chat())).rejects.toMatchObject({ code: "RATE_LIMITED" });
  });

  it("counts SDK retries once: one reservation, the successful attempt's usage", async () => {
    const { openai } = createClients(fake, 2);
    const settled: UsageRecord[] = [];
    const guard = guardedClient({
      providers: { openai },
      limits: [{ id: "rpm", scope: "user", requests: 1, per: "1m" }],
      onEvent: (event) => {
        if (event.type === "call.settled") settled.push(event.record);
      },
    });
    fake.addRule({ fault: { status: 429, retryAfterSeconds: 0 }, times: 1 });
    await guard.for({ user: "u" }).openai.chat.completions.create(chat());
    await guard.close();
    expect(fake.requests).toHaveLength(2);
    expect(settled).toHaveLength(1);
    expect(settled[0]!.inputTokens).toBe(fake.requests[1]!.usage!.inputTokens);
  });

  it("injects the default output cap when a call sets none, without touching the caller's params", async () => {
    const { openai, anthropic } = createClients(fake);
    const guard = guardedClient({ providers: { openai, anthropic }, defaultMaxOutputTokens: 123 });
    const params = { model: "gpt-4o-mini", messages: [{ role: "user" as const, content: "hi" }] };
    await guard.for({ user: "u" }).openai.chat.completions.create(params);
    expect(params).not.toHaveProperty("max_completion_tokens");
    expect(fake.requests[0]!.body).toMatchObject({ max_completion_tokens: 123 });
  });

  it("waits for capacity with onLimit: 'wait' instead of throwing", async () => {
    const { openai } = createClients(fake);
    const guard = guardedClient({
      providers: { openai },
      limits: [{ id: "rps", scope: "user", requests: 2, per: "400ms" }],
    });
    const ai = guard.for({ user: "batch" }, { onLimit: "wait", maxWaitMs: 5_000 });
    const started = Date.now();
    for (let call = 0; call < 5; call++) await ai.openai.chat.completions.create(chat());
    expect(fake.requests).toHaveLength(5);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    const impatient = guard.for({ user: "batch" }, { onLimit: "wait", maxWaitMs: 1 });
    await ai.openai.chat.completions.create(chat());
    await expect(impatient.openai.chat.completions.create(chat())).rejects.toBeInstanceOf(LimitExceededError);
  });

  it("shadow limits measure and report, never refuse", async () => {
    const { openai } = createClients(fake);
    const shadow: GuardEvent[] = [];
    const guard = guardedClient({
      providers: { openai },
      limits: [{ id: "soft", scope: "user", requests: 1, per: "1m", enforce: false }],
      onEvent: (event) => {
        if (event.type === "limit.shadow-exceeded") shadow.push(event);
      },
    });
    const ai = guard.for({ user: "u" });
    for (let call = 0; call < 3; call++) await ai.openai.chat.completions.create(chat());
    expect(fake.requests).toHaveLength(3);
    expect(shadow).toHaveLength(2);
  });

  it("applies `models` filters", async () => {
    const { openai } = createClients(fake);
    const guard = guardedClient({
      providers: { openai },
      limits: [{ id: "gpt4o-only", scope: "user", requests: 1, per: "1m", models: ["gpt-4o"] }],
    });
    const ai = guard.for({ user: "u" });
    await ai.openai.chat.completions.create(chat());
    await ai.openai.chat.completions.create(chat());
    await ai.openai.chat.completions.create({ ...chat(), model: "gpt-4o" });
    await expect(ai.openai.chat.completions.create({ ...chat(), model: "gpt-4o" })).rejects.toMatchObject({
      limitId: "gpt4o-only",
    });
  });

  it("blocks a subject on its next call and unblocks it", async () => {
    const { openai } = createClients(fake);
    const guard = guardedClient({ providers: { openai } });
    await guard.block({ user: "mallory" }, { reason: "leaked key" });
    await expect(
      guard.for({ user: "mallory", ip: "1.2.3.4" }).openai.chat.completions.create(chat()),
    ).rejects.toMatchObject({
      code: "BLOCKED",
      reason: "leaked key",
    });
    expect((await guard.blocked()).map((entry) => entry.reason)).toEqual(["leaked key"]);
    await guard.unblock({ user: "mallory" });
    await guard.for({ user: "mallory" }).openai.chat.completions.create(chat());
    expect(fake.requests).toHaveLength(1);
  });

  it("answers check() without reserving", async () => {
    const guard = guardedClient({ providers: {}, limits: [{ id: "rpm", scope: "user", requests: 2, per: "1m" }] });
    expect(await guard.check({ user: "u" })).toEqual({ allowed: true, remaining: { rpm: 2 } });
    expect(await guard.check({ user: "u" })).toEqual({ allowed: true, remaining: { rpm: 2 } });
  });
});

describe("configuration", () => {
  it.each([
    [{ limits: [{ id: "x", scope: "user", requests: 1 }] }, "limits[0]"],
    [{ limits: [{ id: "x", scope: "planet", requests: 1, per: "1m" }] }, "limits[0].scope"],
    [{ limits: [{ id: "x", scope: "user", requests: 1, per: "soon" }] }, "limits[0].per"],
    [{ limits: [{ id: "x", scope: "user", usd: -1, period: "day" }] }, "limits[0].usd"],
    [{ limits: [{ id: "x", scope: "user", usd: 1, period: "day", timeZone: "Mars/Olympus" }] }, "limits[0].timeZone"],
    [
      {
        limits: [
          { id: "a", scope: "user", requests: 1, per: "1m" },
          { id: "a", scope: "ip", requests: 1, per: "1m" },
        ],
      },
      "limits[1].id",
    ],
    [{ onStoreError: "maybe" }, "onStoreError"],
    [{ defaultMaxOutputTokens: 0 }, "defaultMaxOutputTokens"],
    [{ onUnknownModel: { price: { input: 0, output: 0 } } }, "onUnknownModel.price"],
  ])("names the bad field (%j)", (options, field) => {
    let error: unknown;
    try {
      guardedClient({ providers: {}, ...(options as object) });
    } catch (caught) {
      error = caught;
    }
    expect(ConfigurationError.isInstance(error)).toBe(true);
    expect((error as ConfigurationError).field).toBe(field);
  });

  it("never puts the provider key in an error or event", async () => {
    const key = "sk-proj-PLANTEDSECRET1234567890";
    const openai = new OpenAI({ apiKey: key, baseURL: fake.openaiBaseURL, maxRetries: 0 });
    const events: GuardEvent[] = [];
    const guard = guardedClient({
      providers: { openai },
      limits: [{ id: "rpm", scope: "user", requests: 1, per: "1m" }],
      onEvent: (event) => events.push(event),
    });
    const ai = guard.for({ user: "u" });
    await ai.openai.chat.completions.create(chat());
    const errors: unknown[] = [];
    await ai.openai.chat.completions.create(chat()).catch((error: unknown) => errors.push(error));
    await ai.openai.images.generate({ prompt: "x" }).catch((error: unknown) => errors.push(error));
    await guard.close();
    const dump = JSON.stringify([events, errors.map((error) => [String(error), (error as Error).stack])]);
    expect(errors).toHaveLength(2);
    expect(dump).not.toContain("PLANTEDSECRET");
  });
});
