import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import {
  createMemoryStore,
  describeAlert,
  formatUsd,
  type GuardEvent,
  guardedClient,
  type Limit,
  TollgateError,
  type TollgateStore,
} from "@tollgate/core";
import { startFakeProviders } from "@tollgate/testing";
import OpenAI from "openai";

interface SceneResult {
  scene: string;
  attempted: number;
  admitted: number;
  refused: Record<string, number>;
  /** Spend of the admitted calls, nano-USD. */
  spentNanoUsd: number;
}

const limits: Limit[] = [
  { id: "user-rpm", scope: "user", requests: 10, per: "1m" },
  { id: "ip-rpm", scope: "ip", requests: 20, per: "1m" },
  { id: "user-daily-tokens", scope: "user", tokens: 2_500, period: "day" },
  { id: "user-parallel", scope: "user", concurrent: 2 },
  { id: "monthly-budget", scope: "global", usd: 0.0095, period: "month", alertAt: [0.5, 0.8, 1] },
];

/**
 * `tollgate demo`: the story Tollgate exists for, played offline against the fake provider server with the real
 * SDKs and the embedded store. Deterministic: the fake's usage is derived from the requests.
 */
export async function runDemo(
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  options: { store?: TollgateStore } = {},
) {
  const fake = await startFakeProviders({ defaultOutputTokens: 60 });
  const store = options.store ?? createMemoryStore();
  let sceneSpend = 0;
  const onEvent = (event: GuardEvent) => {
    if (event.type === "call.settled") sceneSpend += event.record.costNanoUsd;
  };
  const guard = guardedClient({
    providers: {
      openai: new OpenAI({ apiKey: "sk-demo-not-a-real-key", baseURL: fake.openaiBaseURL, maxRetries: 0 }),
      anthropic: new Anthropic({ apiKey: "sk-ant-demo-not-a-real-key", baseURL: fake.anthropicBaseURL, maxRetries: 0 }),
      google: new GoogleGenAI({ apiKey: "demo-not-a-real-key", httpOptions: { baseUrl: fake.googleBaseUrl } }),
    },
    store,
    limits,
    onEvent,
    loopDetection: { repeats: 10, within: "1m" },
    // Alerts print as they fire; `projected` is off so the demo's compressed month tells a simple story.
    alerts: { sinks: [(alert) => write(`    ⚠ ${describeAlert(alert)}`)], projected: false },
  });
  const results: SceneResult[] = [];

  // Calls run one after another so every run refuses the same calls: the numbers are deterministic.
  async function scene(name: string, calls: (() => Promise<unknown>)[]) {
    const result: SceneResult = { scene: name, attempted: calls.length, admitted: 0, refused: {}, spentNanoUsd: 0 };
    sceneSpend = 0;
    const run = async (call: () => Promise<unknown>) => {
      try {
        await call();
        result.admitted++;
      } catch (error) {
        if (!TollgateError.isInstance(error)) throw error;
        const reason = "limitId" in error ? `${error.code} ${(error as { limitId: string }).limitId}` : error.code;
        result.refused[reason] = (result.refused[reason] ?? 0) + 1;
      }
    };
    for (const call of calls) await run(call);
    await guard.close();
    result.spentNanoUsd = sceneSpend;
    results.push(result);
    write(`  ${name}: ${result.admitted}/${result.attempted} admitted${formatRefusals(result.refused)}`);
  }

  write(
    `Tollgate demo — real SDKs, fake provider server on loopback, ${options.store === undefined ? "embedded store" : "the store you gave"}\n`,
  );
  const alice = guard.for({ user: "alice", ip: "203.0.113.7" });
  await scene("A normal user chatting (OpenAI, Anthropic, Gemini)", [
    () =>
      alice.openai.chat.completions.create({
        model: "gpt-4o-mini",
        max_tokens: 60,
        messages: [{ role: "user", content: "Hi!" }],
      }),
    () =>
      alice.anthropic.messages.create({
        model: "claude-haiku-4-5",
        max_tokens: 60,
        messages: [{ role: "user", content: "Summarise my day" }],
      }),
    () =>
      alice.google.models.generateContent({
        model: "gemini-2.5-flash",
        contents: "One fun fact",
        config: { maxOutputTokens: 60 },
      }),
  ]);
  const bot = Array.from({ length: 40 }, (_, index) => guard.for({ user: "scraper", ip: `198.51.100.${index % 8}` }));
  await scene(
    "A bot hammering the chat endpoint from 8 IPs",
    bot.map(
      (ai) => () =>
        ai.openai.chat.completions.create({
          model: "gpt-4o-mini",
          max_tokens: 60,
          messages: [{ role: "user", content: "spam" }],
        }),
    ),
  );
  const agent = guard.for({ user: "agent-7", ip: "10.0.0.7" });
  await scene(
    "A runaway loop: an agent resending one request",
    Array.from(
      { length: 25 },
      () => () =>
        agent.anthropic.messages.create({
          model: "claude-haiku-4-5",
          max_tokens: 60,
          messages: [{ role: "user", content: "Retry: summarise ticket #4711" }],
        }),
    ),
  );
  const heavy = guard.for({ user: "heavy-user", ip: "192.0.2.10" });
  await scene(
    "A heavy user reaching the daily token quota",
    Array.from(
      { length: 12 },
      () => () =>
        heavy.anthropic.messages.create({
          model: "claude-haiku-4-5",
          max_tokens: 600,
          messages: [{ role: "user", content: "Write a long essay about tolls. ".repeat(40) }],
        }),
    ),
  );
  const team = Array.from({ length: 6 }, (_, index) => guard.for({ user: `member-${index}`, ip: `172.16.0.${index}` }));
  await scene(
    "The team's month: the global budget fills up",
    Array.from(
      { length: 30 },
      (_, index) => () =>
        team[index % team.length]!.google.models.generateContent({
          model: "gemini-2.5-flash",
          contents: `Draft reply number ${index} to a customer asking about their invoice`,
          config: { maxOutputTokens: 120 },
        }),
    ),
  );
  await guard.close();
  await fake.close();

  // Without the guard every attempted call would have run: price each at its scene's average admitted call.
  let guarded = 0;
  let unguarded = 0;
  write(`\n  ${"scene".padEnd(52)} attempted  admitted  refused`);
  for (const result of results) {
    guarded += result.spentNanoUsd;
    unguarded += result.admitted === 0 ? 0 : Math.round((result.spentNanoUsd / result.admitted) * result.attempted);
    write(
      `  ${result.scene.padEnd(52)} ${String(result.attempted).padStart(9)} ${String(result.admitted).padStart(9)} ${String(result.attempted - result.admitted).padStart(8)}`,
    );
  }
  write(`\n  spend with Tollgate: ${formatUsd(guarded)}   the same traffic without it: ${formatUsd(unguarded)}`);
  return { results, guardedNanoUsd: guarded, unguardedNanoUsd: unguarded };
}

function formatRefusals(refusals: Record<string, number>): string {
  const entries = Object.entries(refusals);
  return entries.length === 0
    ? ""
    : ` (refused: ${entries.map(([reason, count]) => `${count}× ${reason}`).join(", ")})`;
}
