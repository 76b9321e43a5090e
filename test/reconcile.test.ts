import Anthropic from "@anthropic-ai/sdk";
import { createMemoryStore, describeAlert, guardedClient, ReconcileError, reconcile } from "@tollgate/core";
import { type FakeProviders, fakeRuleHeader, startFakeProviders } from "@tollgate/testing";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createClients } from "./clients";

// One price table for the guard's ledger and for the fake's cost reports (USD per 1M tokens).
const prices = {
  "gpt-4o-mini": { input: 1, output: 2, cachedInput: 0.5 },
  "text-embedding-3-small": { input: 0.1, output: 0 },
  "claude-haiku-4-5": { input: 1, output: 5, cachedInput: 0.1, cacheWrite: 1.25, cacheWrite1h: 2 },
};

// Planted admin keys: they must appear in no report, alert, error or log.
const openaiAdminKey = "sk-admin-PLANTED-openai-0123456789abcdef";
const anthropicAdminKey = "sk-ant-admin01-PLANTED-anthropic-0123456789abcdef";

// Guard, fake and reconciliation share one clock at midday UTC, so no call can fall on the other side of midnight.
const startedAt = Date.now();
const middayUtc = Math.floor(startedAt / 86_400_000) * 86_400_000 + 12 * 3_600_000;
const clock = () => middayUtc + (Date.now() - startedAt);

let fake: FakeProviders;

beforeAll(async () => {
  fake = await startFakeProviders({ prices, clock });
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

/** Calls of every metered kind through a guard with a memory store; resolves once every call is in the ledger. */
async function spendThroughGuard() {
  const store = createMemoryStore({ clock });
  const clients = createClients(fake);
  const guard = guardedClient({
    providers: { openai: clients.openai, anthropic: clients.anthropic },
    store,
    prices,
    clock,
    limits: [{ id: "daily-usd", scope: "user", usd: 100, period: "day" }],
  });
  const ai = guard.for({ user: "u1" });
  const messages = [{ role: "user" as const, content: "Hello there" }];

  await ai.openai.chat.completions.create({ model: "gpt-4o-mini", messages });
  const chunks = await ai.openai.chat.completions.create({ model: "gpt-4o-mini", messages, stream: true });
  for await (const _chunk of chunks) {
    // drain
  }
  await ai.openai.responses.create(
    { model: "gpt-4o-mini", input: "Hi" },
    { headers: fakeRuleHeader({ usage: { inputTokens: 2400, cachedInputTokens: 1200, outputTokens: 300 } }) },
  );
  await ai.openai.embeddings.create({ model: "text-embedding-3-small", input: "Embed me" });
  const anthropicParams = { model: "claude-haiku-4-5", max_tokens: 100, messages };
  await ai.anthropic.messages.create(anthropicParams, {
    headers: fakeRuleHeader({
      usage: { inputTokens: 3000, cachedInputTokens: 500, cacheWriteInputTokens: 700, cacheWrite1hInputTokens: 300 },
    }),
  });
  await ai.anthropic.messages.stream(anthropicParams).finalMessage();
  await guard.close();
  return store;
}

function reconcileAgainstFake(store: ReturnType<typeof createMemoryStore>) {
  return reconcile({
    since: new Date(clock() - 3_600_000),
    store,
    openai: { adminKey: openaiAdminKey, baseURL: fake.openaiBaseURL },
    anthropic: { adminKey: anthropicAdminKey, baseURL: fake.anthropicBaseURL },
    clock,
  });
}

describe("provider reconciliation against the fake's usage and cost reports", () => {
  it("stays quiet when every call went through the guard", async () => {
    const store = await spendThroughGuard();
    const report = await reconcileAgainstFake(store);

    expect(report.suspicious).toBe(false);
    expect(report.alerts).toEqual([]);
    expect(report.providers.map((row) => [row.provider, row.model])).toEqual([
      ["anthropic", "claude-haiku-4-5"],
      ["openai", "gpt-4o-mini"],
      ["openai", "text-embedding-3-small"],
    ]);
    for (const row of report.providers) {
      expect(row.reported.tokens).toBeGreaterThan(0);
      expect(row.unaccountedTokens).toBe(0);
      // The ledger rounds each call up to the nano-dollar; the report sums exact amounts.
      expect(Math.abs(row.unaccountedUsd ?? Number.NaN)).toBeLessThan(1e-8);
    }
    expect(report.providers.find((row) => row.model === "gpt-4o-mini")).toMatchObject({
      reported: { requests: 3 },
      ledger: { requests: 3 },
    });
  });

  it("flags the tokens and USD spent with the key outside the guard", async () => {
    const store = await spendThroughGuard();
    // The same key, used by someone else: straight through the SDKs, never through the guard.
    const leakedOpenAI = new OpenAI({ apiKey: "sk-test-openai", baseURL: fake.openaiBaseURL, maxRetries: 0 });
    const leakedAnthropic = new Anthropic({ apiKey: "sk-ant-test", baseURL: fake.anthropicBaseURL, maxRetries: 0 });
    for (let call = 0; call < 2; call++) {
      await leakedOpenAI.chat.completions.create(
        { model: "gpt-4o-mini", messages: [{ role: "user", content: "free compute" }] },
        { headers: fakeRuleHeader({ usage: { inputTokens: 5000, outputTokens: 1000, reasoningTokens: 1000 } }) },
      );
    }
    await leakedAnthropic.messages.create(
      { model: "claude-haiku-4-5", max_tokens: 500, messages: [{ role: "user", content: "free compute" }] },
      { headers: fakeRuleHeader({ usage: { inputTokens: 4000, cachedInputTokens: 1000, outputTokens: 500 } }) },
    );

    const report = await reconcileAgainstFake(store);

    expect(report.suspicious).toBe(true);
    const byModel = Object.fromEntries(report.providers.map((row) => [row.model, row]));
    expect(byModel["gpt-4o-mini"]).toMatchObject({ unaccountedTokens: 2 * 6000, suspicious: true });
    expect(byModel["gpt-4o-mini"]?.unaccountedUsd).toBeCloseTo(2 * (5000 * 1 + 1000 * 2) * 1e-6, 8);
    expect(byModel["claude-haiku-4-5"]).toMatchObject({ unaccountedTokens: 4500, suspicious: true });
    expect(byModel["claude-haiku-4-5"]?.unaccountedUsd).toBeCloseTo((3000 * 1 + 1000 * 0.1 + 500 * 5) * 1e-6, 8);
    expect(byModel["text-embedding-3-small"]).toMatchObject({ unaccountedTokens: 0, suspicious: false });

    const day = new Date(clock()).toISOString().slice(0, 10);
    expect(report.alerts).toEqual([
      {
        type: "reconcile.mismatch",
        provider: "anthropic",
        model: "claude-haiku-4-5",
        day,
        unaccountedTokens: 4500,
        unaccountedUsd: expect.closeTo(0.0056, 8),
        time: expect.any(Date),
      },
      expect.objectContaining({ provider: "openai", model: "gpt-4o-mini", day, unaccountedTokens: 12_000 }),
    ]);
    const lines = report.alerts.map(describeAlert);
    expect(lines[1]).toBe(
      `Tollgate: openai reports 12000 gpt-4o-mini tokens ($0.0140) on ${day} that did not go through the guard — is the API key used elsewhere?`,
    );

    // The planted admin keys appear in no output: report, alerts, alert lines, or the provider's request log.
    const outputs = JSON.stringify([report, lines, fake.requests]);
    expect(outputs).not.toContain("PLANTED");
    expect(fake.requests.filter((request) => request.operation.endsWith("Report"))).toHaveLength(5);
  });

  it("fails with a ReconcileError that does not echo a key the reports refuse", async () => {
    const store = createMemoryStore({ clock });
    const projectKey = "sk-proj-PLANTED-not-an-admin-key-0123456789";
    const error = await reconcile({
      since: new Date(clock()),
      store,
      openai: { adminKey: projectKey, baseURL: fake.openaiBaseURL },
      clock,
    }).catch((caught: unknown) => caught);
    expect(ReconcileError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: "RECONCILE_FAILED", provider: "openai", status: 403 });
    expect(`${String(error)}\n${(error as Error).stack}\n${JSON.stringify(error)}`).not.toContain("PLANTED");
  });
});

describe("guard.reconcile", () => {
  it("sends each mismatch to the guard's alert sinks once per provider, model and day", async () => {
    const store = createMemoryStore({ clock });
    const alerts: string[] = [];
    const guard = guardedClient({
      providers: { openai: createClients(fake).openai },
      store,
      prices,
      clock,
      alerts: { sinks: [(alert) => void alerts.push(alert.type)] },
    });
    await guard.for({ user: "u" }).openai.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "through the guard" }],
    });
    await new OpenAI({ apiKey: "sk-test-openai", baseURL: fake.openaiBaseURL, maxRetries: 0 }).chat.completions.create(
      { model: "gpt-4o-mini", messages: [{ role: "user", content: "around it" }] },
      { headers: fakeRuleHeader({ usage: { inputTokens: 9000, outputTokens: 1000 } }) },
    );
    await guard.close();
    const options = {
      since: new Date(clock() - 3_600_000),
      openai: { adminKey: openaiAdminKey, baseURL: fake.openaiBaseURL },
    };
    const first = await guard.reconcile(options);
    const second = await guard.reconcile(options);
    await guard.close();
    expect(first.suspicious).toBe(true);
    expect(second.suspicious).toBe(true);
    expect(alerts).toEqual(["reconcile.mismatch"]);
  });
});
