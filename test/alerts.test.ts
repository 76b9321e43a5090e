import {
  createMemoryStore,
  type GuardEvent,
  guardedClient,
  LoopDetectedError,
  type TollgateAlert,
  webhookSink,
} from "@tollgate/core";
import { type FakeProviders, startFakeProviders } from "@tollgate/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createClients } from "./clients";
import { startReceiver } from "./webhook-receiver";

let fake: FakeProviders;
beforeAll(async () => {
  fake = await startFakeProviders();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const prices = { "gpt-4o-mini": { input: 1_000, output: 1_000 } }; // $0.001 per token: budgets move fast

describe("budget alerts", () => {
  it("two instances sharing a store deliver each threshold exactly once, signed", async () => {
    const secret = "whsec-test";
    const receiver = await startReceiver(secret);
    const store = createMemoryStore();
    const limits = [{ id: "monthly", scope: "global", usd: 1, period: "month" }] as const;
    const instances = [0, 1].map(() =>
      guardedClient({
        providers: { openai: createClients(fake).openai },
        store,
        limits,
        prices,
        alerts: { sinks: [webhookSink({ url: receiver.url, secret })], projected: false },
      }),
    );
    fake.addRule({ usage: { inputTokens: 60, outputTokens: 40 } }); // $0.10 per call
    for (let call = 0; call < 12; call++) {
      const guard = instances[call % 2]!;
      await guard
        .for({ user: `u${call}` })
        .openai.chat.completions.create({
          model: "gpt-4o-mini",
          max_tokens: 40,
          messages: [{ role: "user", content: `q${call}` }],
        })
        .catch(() => undefined);
      await guard.close();
    }
    for (const guard of instances) await guard.close();
    await receiver.close();
    const fractions = receiver.received.map((delivery) => (delivery.body as { fraction: number }).fraction);
    expect(fractions.sort()).toEqual([0.5, 0.8, 1]);
    expect(receiver.received.every((delivery) => delivery.validSignature)).toBe(true);
    expect(receiver.received[0]!.body).toMatchObject({ type: "budget.threshold", limitId: "monthly", scope: "global" });
  });

  it("a receiver that is down slows no call, and gets the alert when it comes back", async () => {
    const secret = "whsec-down";
    const probe = await startReceiver(secret);
    const url = probe.url;
    const port = Number(new URL(url).port);
    await probe.close(); // the port is now closed: deliveries fail and are retried
    const sink = webhookSink({ url, secret, initialBackoffMs: 100, maxAttempts: 20 });
    const guard = guardedClient({
      providers: { openai: createClients(fake).openai },
      limits: [{ id: "daily", scope: "user", usd: 0.1, period: "day" }],
      prices,
      alerts: { sinks: [sink], projected: false },
    });
    fake.addRule({ usage: { inputTokens: 30, outputTokens: 30 } }); // $0.06: crosses 50 %
    const started = performance.now();
    await guard.for({ user: "u" }).openai.chat.completions.create({
      model: "gpt-4o-mini",
      max_tokens: 30,
      messages: [{ role: "user", content: "x" }],
    });
    const callMs = performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 300)); // a few failed attempts
    expect(sink.pending).toBe(1);
    const receiver = await startReceiver(secret, port);
    await guard.close();
    await receiver.close();
    expect(receiver.received.map((delivery) => delivery.body.type)).toEqual(["budget.threshold"]);
    expect(receiver.received[0]!.validSignature).toBe(true);
    expect(callMs).toBeLessThan(1_000);
  });

  it("warns once when the burn rate will exhaust a monthly budget early", async () => {
    let now = Date.parse("2026-11-10T00:00:00Z"); // a third of November gone
    const alerts: TollgateAlert[] = [];
    const guard = guardedClient({
      providers: { openai: createClients(fake).openai },
      store: createMemoryStore({ clock: () => now }),
      clock: () => now,
      limits: [{ id: "monthly", scope: "global", usd: 1, period: "month", alertAt: [1] }],
      prices,
      alerts: { sinks: [(alert) => void alerts.push(alert)] },
    });
    fake.addRule({ usage: { inputTokens: 250, outputTokens: 150 } }); // $0.40 by the 10th: $1 runs out around the 25th
    for (let call = 0; call < 2; call++) {
      await guard.for({}).openai.chat.completions.create({
        model: "gpt-4o-mini",
        max_tokens: 150,
        messages: [{ role: "user", content: `${call}` }],
      });
      now += 1_000;
    }
    await guard.close();
    const projected = alerts.filter((alert) => alert.type === "budget.projected");
    expect(projected).toHaveLength(1);
    const exhaustedAt = (projected[0] as { exhaustedAt: Date }).exhaustedAt;
    expect(exhaustedAt.getTime()).toBeLessThan(Date.parse("2026-12-01T00:00:00Z"));
  });
});

describe("loop detection", () => {
  it("stops a loop of identical requests at the Nth, and lets a varied workload of the same size through", async () => {
    const events: GuardEvent[] = [];
    const guard = guardedClient({
      providers: { openai: createClients(fake).openai },
      loopDetection: { repeats: 5, within: "1m" },
      onEvent: (event) => events.push(event),
    });
    const ai = guard.for({ user: "agent" });
    const ask = (content: string) =>
      ai.openai.chat.completions.create({ model: "gpt-4o-mini", max_tokens: 5, messages: [{ role: "user", content }] });
    for (let call = 0; call < 4; call++) await ask("same question");
    await expect(ask("same question")).rejects.toBeInstanceOf(LoopDetectedError);
    for (let call = 0; call < 5; call++) await ask(`question ${call}`);
    await guard.close();
    expect(fake.requests).toHaveLength(9);
    const alerts = events.filter((event) => event.type === "alert");
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ alert: { type: "loop.detected", repeats: 5, subject: { user: "agent" } } });
  });
});

describe("anomaly detection", () => {
  it("alerts on and quarantines a new subject that starts like a bot within a minute; a steady day raises nothing", async () => {
    let now = Date.parse("2026-11-28T00:00:00Z");
    const clock = () => now;
    const alerts: TollgateAlert[] = [];
    const guard = guardedClient({
      providers: { openai: createClients(fake).openai },
      store: createMemoryStore({ clock }),
      clock,
      loopDetection: false,
      anomalyDetection: { scopes: ["user"], minRequests: 60, quarantine: true },
      alerts: { sinks: [(alert) => void alerts.push(alert)] },
    });
    const call = (user: string, content: string) =>
      guard
        .for({ user })
        .openai.chat.completions.create({ model: "gpt-4o-mini", max_tokens: 5, messages: [{ role: "user", content }] });
    // A steady user: a call every 5 minutes for a whole day.
    for (let step = 0; step < 288; step++) {
      await call("steady", `day ${step}`);
      now += 5 * 60_000;
    }
    await guard.close();
    expect(alerts).toEqual([]);
    // A leaked key: a brand-new subject firing 300 calls a minute.
    const burstStart = now;
    let refusedAt: number | undefined;
    for (let step = 0; step < 300 && refusedAt === undefined; step++) {
      try {
        await call("leaked", `burst ${step}`);
      } catch (error) {
        if ((error as { code?: string }).code === "BLOCKED") refusedAt = now;
        else throw error;
      }
      await guard.close();
      now += 200;
    }
    expect(alerts.map((alert) => alert.type)).toContain("anomaly.detected");
    expect(alerts[0]).toMatchObject({ type: "anomaly.detected", subject: "leaked", quarantined: true });
    expect(refusedAt).toBeDefined();
    expect(refusedAt! - burstStart).toBeLessThan(60_000);
    expect((await guard.blocked()).map((entry) => entry.scope)).toEqual(["user:leaked"]);
  });
});
