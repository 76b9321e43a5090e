// Guard overhead: the same call through each SDK to the fake provider server, raw and through `guardedClient` (memory
// store, 5 limits), non-streamed and streamed, sequential and 64 in flight. Raw and guarded run interleaved round by
// round against the same server, so their ratio is what this section reports.
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import { createMemoryStore, guardedClient, type Limit } from "@tollgate/core";
import OpenAI from "openai";
import type { BenchContext, Section } from "./context";
import { startFakeServer } from "./fake-server";
import { type BenchCase, measureGroup } from "./harness";
import { measurementRow, type Row } from "./report";
import { rowIds } from "./targets";

/** Five limits as a real deployment has them; capacities are huge so nothing is refused. */
export const guardLimits: Limit[] = [
  { id: "user-rpm", scope: "user", requests: 1_000_000_000, per: "1m" },
  { id: "ip-rpm", scope: "ip", requests: 1_000_000_000, per: "1m" },
  { id: "user-daily-tokens", scope: "user", tokens: 1_000_000_000_000, period: "day" },
  { id: "user-daily-usd", scope: "user", usd: 1_000_000, period: "day" },
  { id: "user-parallel", scope: "user", concurrent: 100_000 },
];

const prompt =
  "Summarise the following support ticket in one sentence: the customer reports that invoices generated after the " +
  "last update show the wrong currency symbol, although the amounts themselves are correct.";
const maxTokens = 16;

interface Clients {
  openai: OpenAI;
  anthropic: Anthropic;
  google: GoogleGenAI;
}

interface CallKind {
  id: string;
  name: string;
  call: (clients: Clients) => Promise<unknown>;
}

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _chunk of stream) {
    // Read every chunk, as a caller relaying the stream would.
  }
}

/**
 * Each call's prompt ends with a sequence number: real traffic varies, and the guard's default loop detection refuses
 * the 10th identical request within a minute.
 */
let sequence = 0;
const nextPrompt = (): string => `${prompt} (ticket ${++sequence})`;
const nextMessages = () => [{ role: "user" as const, content: nextPrompt() }];

const callKinds: CallKind[] = [
  {
    id: "openai",
    name: "OpenAI chat.completions.create",
    call: ({ openai }) =>
      openai.chat.completions.create({ model: "gpt-4o-mini", max_tokens: maxTokens, messages: nextMessages() }),
  },
  {
    id: "openai-stream",
    name: "OpenAI chat.completions.create, stream",
    call: async ({ openai }) =>
      drain(
        await openai.chat.completions.create({
          model: "gpt-4o-mini",
          max_tokens: maxTokens,
          messages: nextMessages(),
          stream: true,
        }),
      ),
  },
  {
    id: "anthropic",
    name: "Anthropic messages.create",
    call: ({ anthropic }) =>
      anthropic.messages.create({ model: "claude-haiku-4-5", max_tokens: maxTokens, messages: nextMessages() }),
  },
  {
    id: "anthropic-stream",
    name: "Anthropic messages.create, stream",
    call: async ({ anthropic }) =>
      drain(
        await anthropic.messages.create({
          model: "claude-haiku-4-5",
          max_tokens: maxTokens,
          messages: nextMessages(),
          stream: true,
        }),
      ),
  },
  {
    id: "google",
    name: "Gemini models.generateContent",
    call: ({ google }) =>
      google.models.generateContent({
        model: "gemini-2.5-flash",
        contents: nextPrompt(),
        config: { maxOutputTokens: maxTokens },
      }),
  },
  {
    id: "google-stream",
    name: "Gemini models.generateContentStream",
    call: async ({ google }) =>
      drain(
        await google.models.generateContentStream({
          model: "gemini-2.5-flash",
          contents: nextPrompt(),
          config: { maxOutputTokens: maxTokens },
        }),
      ),
  },
];

/** CPU time of this process per call of each function, measured in alternating blocks of 10 calls. */
async function clientCpuPerCall(runs: readonly (() => Promise<unknown>)[], calls: number): Promise<number[]> {
  const totals = runs.map(() => 0);
  for (let block = 0; block < calls / 10; block++) {
    for (const [index, run] of runs.entries()) {
      const before = process.cpuUsage();
      for (let call = 0; call < 10; call++) await run();
      const used = process.cpuUsage(before);
      totals[index]! += used.user + used.system;
    }
  }
  return totals.map((micros) => micros / calls);
}

export const guardOverhead: Section = {
  name: "guard",
  async run(context: BenchContext): Promise<Row[]> {
    const server = await startFakeServer();
    try {
      const raw: Clients = {
        openai: new OpenAI({ apiKey: "sk-bench", baseURL: server.openaiBaseURL, maxRetries: 0 }),
        anthropic: new Anthropic({ apiKey: "sk-ant-bench", baseURL: server.anthropicBaseURL, maxRetries: 0 }),
        google: new GoogleGenAI({ apiKey: "AIza-bench", httpOptions: { baseUrl: server.googleBaseUrl } }),
      };
      const guard = guardedClient({ providers: raw, store: createMemoryStore(), limits: guardLimits });
      const guarded: Clients = guard.for({ user: "bench-user", ip: "203.0.113.7" });
      // The first guarded call loads the tokenizer (hundreds of ms, once): pay it before any timing.
      await guarded.openai.chat.completions.create({
        model: "gpt-4o-mini",
        max_tokens: maxTokens,
        messages: nextMessages(),
      });

      const rows: Row[] = [];
      for (const mode of ["sequential", "concurrent"] as const) {
        for (const kind of callKinds) {
          context.log(`guard overhead: ${kind.name}, ${mode}`);
          const cases: BenchCase[] = [
            { id: rowIds.guard(kind.id, "raw", mode), run: () => kind.call(raw) },
            { id: rowIds.guard(kind.id, "guarded", mode), run: () => kind.call(guarded) },
          ];
          const results = await measureGroup(cases, mode, context.budget(mode, 0.5));
          // This process's CPU per call (user + system), raw and guarded alternately: the guard's own work in µs,
          // which the fake server's latency and the machine's other load do not blur as much as wall time.
          const cpu =
            mode === "sequential"
              ? await clientCpuPerCall(
                  cases.map((benchCase) => benchCase.run),
                  context.quick ? 30 : 500,
                )
              : undefined;
          for (const [index, variant] of (["raw", "guarded"] as const).entries()) {
            const id = rowIds.guard(kind.id, variant, mode);
            const cpuUs = cpu?.[index];
            rows.push(
              measurementRow(
                {
                  id,
                  section: "guard overhead",
                  name: variant === "raw" ? `${kind.name}, raw SDK` : `${kind.name}, guarded (memory store, 5 limits)`,
                  ...(variant === "guarded"
                    ? { compare: [{ against: rowIds.guard(kind.id, "raw", mode), label: "raw SDK" }] }
                    : {}),
                  ...(cpuUs === undefined
                    ? {}
                    : { clientCpuUsPerCall: cpuUs, note: `client CPU ${cpuUs.toFixed(0)} µs/call` }),
                },
                mode,
                results.get(id)!,
              ),
            );
          }
        }
      }
      await guard.close();
      return rows;
    } finally {
      await server.close();
    }
  },
};
