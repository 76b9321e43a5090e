import { randomUUID } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import {
  type AlertSink,
  createMemoryStore,
  type GuardEvent,
  guardedClient,
  type Limit,
  loggerSink,
  type TollgateStore,
  webhookSink,
} from "@tollgate/core";
import { createRedisStore } from "@tollgate/redis";
import { type FakeProviders, fakeRuleHeader, startFakeProviders } from "@tollgate/testing";
import { Redis } from "ioredis";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTollgateCli } from "./cli-runner";
import { captureText, LeakCapture, type PlantedSecret, plantKey } from "./secret-capture";
import { deleteRedisPrefix, probeRedis, redisUrl } from "./service-probes";
import { startTcpProxy } from "./tcp-proxy";
import { startReceiver } from "./webhook-receiver";

// Provider keys of real shape and length are planted in the SDK clients; a mix of calls runs through the guard
// (served, refused every way, provider errors, an aborted stream, a loop, budget alerts, a store outage), and every
// output of the app is searched for them: thrown errors with their causes, guard events, alerts, logger and console
// lines, webhook bodies, usage records, every Redis key and value, and the CLI's output. None may hold a key or any
// 12 characters of its secret part.
//
// The search must be able to fail: a control value (used as the user id, and as a block reason) flows through every
// one of those channels, and the same search must find it in each.

const plantedKeys: PlantedSecret[] = [
  plantKey("OpenAI project key", "sk-proj-", 164),
  plantKey("Anthropic key", "sk-ant-api03-", 108),
  plantKey("Google API key", "AIza", 39),
];
const control = plantKey("control user id", "user-", 47, "CONTROL");
const [openaiKey, anthropicKey, googleKey] = plantedKeys.map((key) => key.value) as [string, string, string];
const redisProbe = await probeRedis();

const expensive = { input: 1_000, output: 1_000 }; // $0.001 a token: budget alerts after a few calls
const prices = {
  "gpt-4o-mini": expensive,
  "gpt-4o": expensive,
  "text-embedding-3-small": expensive,
  "claude-haiku-4-5": expensive,
  "gemini-2.5-flash": expensive,
};
const limits: Limit[] = [
  { id: "user-budget", scope: "user", usd: 10, period: "day", alertAt: [0.001, 0.01] },
  { id: "ip-rpm", scope: "ip", requests: 2, per: "1m", models: ["gpt-4o"] },
  { id: "user-parallel", scope: "user", concurrent: 20 },
];

let fake: FakeProviders;
beforeAll(async () => {
  fake = await startFakeProviders();
});
afterAll(async () => {
  await fake?.close();
});

function plantedClients() {
  return {
    openai: new OpenAI({ apiKey: openaiKey, baseURL: fake.openaiBaseURL, maxRetries: 0 }),
    anthropic: new Anthropic({ apiKey: anthropicKey, baseURL: fake.anthropicBaseURL, maxRetries: 0 }),
    google: new GoogleGenAI({ apiKey: googleKey, httpOptions: { baseUrl: fake.googleBaseUrl } }),
  };
}

type PlantedGuard = ReturnType<typeof guardedClient<ReturnType<typeof plantedClients>>>;

/** Runs `call`; a thrown error goes to the capture whole (with its cause chain), as an app's error log would take it. */
async function attempt(capture: LeakCapture, call: () => Promise<unknown>): Promise<string> {
  try {
    capture.add("results", await call());
    return "ok";
  } catch (error) {
    capture.add("errors", error);
    return `threw ${error instanceof Error ? error.constructor.name : typeof error}`;
  }
}

const prompt = (label: string) => [{ role: "user" as const, content: `${label} ${randomUUID()}` }];

/** Every kind of call the sweep covers, made by the control user; returns how each ended, for the record. */
async function runMix(guard: PlantedGuard, capture: LeakCapture): Promise<string[]> {
  const ai = guard.for({ user: control.value });
  const outcomes: string[] = [];
  const run = async (label: string, call: () => Promise<unknown>) => {
    outcomes.push(`${label}: ${await attempt(capture, call)}`);
  };
  const fault = (status: number) => ({ headers: fakeRuleHeader({ fault: { status, shouldRetry: false } }) });

  // Served, in every form.
  await run("openai chat", () =>
    ai.openai.chat.completions.create({ model: "gpt-4o-mini", max_tokens: 16, messages: prompt("hello") }),
  );
  await run("openai stream", async () => {
    const stream = await ai.openai.chat.completions.create({
      model: "gpt-4o-mini",
      max_tokens: 16,
      stream: true,
      messages: prompt("stream"),
    });
    for await (const chunk of stream) capture.add("results", chunk);
  });
  await run("openai embeddings", () =>
    ai.openai.embeddings.create({ model: "text-embedding-3-small", input: `embed ${randomUUID()}` }),
  );
  await run("anthropic", () =>
    ai.anthropic.messages.create({ model: "claude-haiku-4-5", max_tokens: 16, messages: prompt("hi") }),
  );
  await run("gemini", () =>
    ai.google.models.generateContent({ model: "gemini-2.5-flash", contents: `hi ${randomUUID()}` }),
  );
  // An aborted stream.
  await run("aborted stream", async () => {
    const stream = await ai.openai.chat.completions.create(
      { model: "gpt-4o-mini", max_tokens: 16, stream: true, messages: prompt("abort") },
      { headers: fakeRuleHeader({ fault: { chunkDelayMs: 30 } }) },
    );
    for await (const chunk of stream) {
      capture.add("results", chunk);
      stream.controller.abort();
    }
  });
  // Provider errors, which pass through unchanged.
  await run("openai 401", () =>
    ai.openai.chat.completions.create(
      { model: "gpt-4o-mini", max_tokens: 16, messages: prompt("unauthorised") },
      fault(401),
    ),
  );
  await run("anthropic 500", () =>
    ai.anthropic.messages.create({ model: "claude-haiku-4-5", max_tokens: 16, messages: prompt("broken") }, fault(500)),
  );
  await run("gemini 500", () =>
    ai.google.models.generateContent({
      model: "gemini-2.5-flash",
      contents: `broken ${randomUUID()}`,
      config: { httpOptions: { headers: fakeRuleHeader({ fault: { status: 500 } }) } },
    }),
  );
  // Refusals of every kind.
  const loopBody = { model: "gpt-4o-mini", max_tokens: 16, messages: prompt("again") };
  for (let repeat = 0; repeat < 3; repeat++)
    await run(`loop ${repeat}`, () => ai.openai.chat.completions.create(loopBody));
  const withIp = guard.for({ user: control.value, ip: "203.0.113.7" });
  for (let index = 0; index < 3; index++) {
    await run(`ip rate ${index}`, () =>
      withIp.openai.chat.completions.create({ model: "gpt-4o", max_tokens: 16, messages: prompt("rate") }),
    );
  }
  await run("missing scope", () =>
    ai.openai.chat.completions.create({ model: "gpt-4o", max_tokens: 16, messages: prompt("no ip") }),
  );
  await run("unknown model", () =>
    ai.openai.chat.completions.create({ model: "gpt-unknown-planted", max_tokens: 16, messages: prompt("who") }),
  );
  await run("unguarded", () => ai.openai.images.generate({ model: "gpt-image-1", prompt: "a cat" }));
  await guard.block({ user: "blocked-user" }, { reason: `leaked by ${control.value}` });
  await run("blocked", () =>
    guard
      .for({ user: "blocked-user" })
      .openai.chat.completions.create({ model: "gpt-4o-mini", max_tokens: 16, messages: prompt("blocked") }),
  );
  capture.add("results", await guard.check({ user: control.value }));
  capture.add("results", await guard.blocked());
  return outcomes;
}

/** How each call of the mix ends: it really covered what it says. */
const expectedOutcomes = [
  "openai chat: ok",
  "openai stream: ok",
  "openai embeddings: ok",
  "anthropic: ok",
  "gemini: ok",
  "aborted stream: ok",
  "openai 401: threw AuthenticationError",
  "anthropic 500: threw InternalServerError",
  "gemini 500: threw ApiError",
  "loop 0: ok",
  "loop 1: ok",
  "loop 2: threw LoopDetectedError",
  "ip rate 0: ok",
  "ip rate 1: ok",
  "ip rate 2: threw LimitExceededError",
  "missing scope: threw SubjectScopeMissingError",
  "unknown model: threw UnknownModelError",
  "unguarded: threw UnguardedOperationError",
  "blocked: threw BlockedError",
];

interface Sinks {
  sinks: AlertSink[];
  close(): Promise<void>;
}

async function alertSinks(capture: LeakCapture): Promise<Sinks> {
  const receiver = await startReceiver("whsec-sweep");
  const webhook = webhookSink({ url: receiver.url, secret: "whsec-sweep", maxAttempts: 2, initialBackoffMs: 50 });
  return {
    sinks: [
      (alert) => capture.add("alerts", alert),
      loggerSink({ warn: (message, details) => capture.add("logger", `${message} ${captureText(details)}`) }),
      loggerSink(), // the default: console, which the capture spies on
      webhook,
    ],
    async close() {
      for (const delivery of receiver.received) capture.add("webhook", delivery.body);
      await receiver.close();
    },
  };
}

async function sweep(store: TollgateStore, capture: LeakCapture, onGuard?: (guard: PlantedGuard) => Promise<void>) {
  const restoreConsole = capture.captureConsole();
  const sinks = await alertSinks(capture);
  try {
    const guard = guardedClient({
      providers: plantedClients(),
      store,
      prices,
      limits,
      loopDetection: { repeats: 3, within: "1m" },
      alerts: { sinks: sinks.sinks, projected: true },
      onEvent: (event: GuardEvent) => capture.add("events", event),
    });
    const outcomes = await runMix(guard, capture);
    await onGuard?.(guard);
    await guard.close(); // settlements recorded, alerts delivered
    for (const row of await guard.usage({ groupBy: ["user", "ip", "key", "tenant", "model", "provider", "day"] })) {
      capture.add("usage", row);
    }
    for (const row of await store.queryUsage({ groupBy: ["user", "model", "provider", "day"] }))
      capture.add("usage", row);
    // The "capture would have found it" control for thrown errors: a secret deep in a cause chain.
    capture.add("errors", new Error("wrapper", { cause: new Error("middle", { cause: new Error(control.value) }) }));
    return outcomes;
  } finally {
    await sinks.close();
    restoreConsole();
  }
}

/** Fails with the channels where a planted key shows, and checks that the control shows in every channel given. */
function expectNoLeaks(capture: LeakCapture, controlChannels: readonly string[]): void {
  for (const key of plantedKeys) {
    expect({ key: key.name, leakedInto: capture.channelsContaining(key) }).toEqual({ key: key.name, leakedInto: [] });
  }
  const found = capture.channelsContaining(control);
  for (const channel of controlChannels) {
    expect(capture.characters(channel), `nothing captured from ${channel}`).toBeGreaterThan(0);
    expect(found, `the search did not find the control value in ${channel}`).toContain(channel);
  }
}

describe("planted provider keys appear in no output", () => {
  it("memory store: errors, events, alerts, logger and console lines, webhook bodies and usage", async () => {
    const capture = new LeakCapture();
    const outcomes = await sweep(createMemoryStore(), capture);
    expect(outcomes).toEqual(expectedOutcomes);
    expectNoLeaks(capture, ["errors", "events", "alerts", "logger", "console", "webhook", "usage"]);
  }, 60_000);

  it.skipIf(redisProbe.skip)(
    "Redis store, with an outage: the same, plus every Redis key and value and the CLI's usage, report and blocked output",
    async () => {
      redisProbe.assertReachable();
      const prefix = `tollgate-sweep:${randomUUID()}`;
      const redis = new Redis(redisUrl, { enableOfflineQueue: false, lazyConnect: true });
      await redis.connect();
      const proxy = await startTcpProxy(Number(new URL(redisUrl).port || 6379), new URL(redisUrl).hostname);
      const overProxy = new Redis({
        host: "127.0.0.1",
        port: proxy.port,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        retryStrategy: () => 50,
      });
      overProxy.on("error", () => undefined);
      const reportFile = join(tmpdir(), `tollgate-sweep-${randomUUID()}.html`);
      try {
        const capture = new LeakCapture();
        const outcomes = await sweep(createRedisStore(redis, { prefix }), capture, async () => {
          // A store outage: the same planted clients behind a guard whose Redis connection is cut.
          const outage = guardedClient({
            providers: plantedClients(),
            store: createRedisStore(overProxy, { prefix, commandTimeoutMs: 300 }),
            prices,
            limits,
            storeTimeoutMs: 500,
            onEvent: (event: GuardEvent) => capture.add("events", event),
          });
          await attempt(capture, () =>
            outage.for({ user: control.value }).openai.chat.completions.create({
              model: "gpt-4o-mini",
              max_tokens: 16,
              messages: prompt("before the outage"),
            }),
          );
          await proxy.cut();
          for (const onStoreError of ["deny", "allow"] as const) {
            const guard = guardedClient({
              providers: plantedClients(),
              store: createRedisStore(overProxy, { prefix, commandTimeoutMs: 300 }),
              prices,
              limits,
              onStoreError,
              storeTimeoutMs: 500,
              onEvent: (event: GuardEvent) => capture.add("events", event),
            });
            expect(
              await attempt(capture, () =>
                guard.for({ user: control.value }).openai.chat.completions.create({
                  model: "gpt-4o-mini",
                  max_tokens: 16,
                  messages: prompt("during the outage"),
                }),
              ),
            ).toBe(onStoreError === "deny" ? "threw StoreUnavailableError" : "ok");
            await guard.close();
          }
          await outage.close();
        });
        expect(outcomes).toEqual(expectedOutcomes);

        // Every key of the store and its value.
        for (const entry of await dumpRedis(redis, prefix)) capture.add("redis", entry);
        // The CLI, as an operator would run it against this store.
        const storeUrl = `${redisUrl}?prefix=${encodeURIComponent(prefix)}`;
        const runs = await Promise.all([
          runTollgateCli(["usage", "--store", storeUrl, "--since", "1d", "--group-by", "user,model,day"]),
          runTollgateCli(["usage", "--store", storeUrl, "--since", "1d", "--json"]),
          runTollgateCli(["report", "--store", storeUrl, "--since", "1d", "--out", reportFile, "--budget", "10"]),
          runTollgateCli(["blocked", "--store", storeUrl]),
        ]);
        for (const [index, run] of runs.entries()) {
          expect(run.code, `CLI run ${index}: ${run.stderr}`).toBe(0);
          capture.add(index === 3 ? "cli blocked" : "cli usage and report", `${run.stdout}\n${run.stderr}`);
        }
        capture.add("cli usage and report", await readFile(reportFile, "utf8"));
        expectNoLeaks(capture, [
          "errors",
          "events",
          "alerts",
          "logger",
          "console",
          "webhook",
          "usage",
          "redis",
          "cli usage and report",
          "cli blocked",
        ]);
      } finally {
        overProxy.disconnect();
        await proxy.close();
        redis.disconnect();
        await deleteRedisPrefix(prefix);
        await rm(reportFile, { force: true });
      }
    },
    90_000,
  );

  it("the search finds a key in any channel: 12 characters of it are enough", () => {
    const capture = new LeakCapture();
    const [key] = plantedKeys as [PlantedSecret];
    capture.add("log line", `upstream said: invalid key …${key.secretPart.slice(40, 52)}…`);
    capture.add("clean", "nothing to see here");
    expect(capture.channelsContaining(key)).toEqual(["log line"]);
    capture.add("error", new Error("outer", { cause: new Error(`key=${key.value}`) }));
    expect(capture.channelsContaining(key)).toEqual(["log line", "error"]);
  });
});

/** Every key under the store's prefix with its value, read by type. */
async function dumpRedis(redis: Redis, prefix: string): Promise<string[]> {
  const entries: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `{${prefix}}*`, "COUNT", 1_000);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      let value: unknown;
      if (type === "string") value = await redis.get(key);
      else if (type === "hash") value = await redis.hgetall(key);
      else if (type === "set") value = await redis.smembers(key);
      else if (type === "zset") value = await redis.zrange(key, "0", "-1", "WITHSCORES");
      else if (type === "list") value = await redis.lrange(key, 0, -1);
      else value = `(${type})`;
      entries.push(`${key} ${JSON.stringify(value)}`);
    }
  } while (cursor !== "0");
  if (entries.length === 0) throw new Error(`no Redis keys under ${prefix}`);
  return entries;
}
