import { createRequire } from "node:module";

/**
 * The OpenAI SDK, loaded from @tollgate/testing's own dependencies: this package does not depend on `openai`, and
 * the guarded-call tests only need a real SDK client pointed at the fake provider. Typed by the little they use.
 */
export interface ChatClient {
  chat: {
    completions: {
      create(body: {
        model: string;
        messages: { role: "user"; content: string }[];
        max_tokens?: number;
      }): Promise<{ usage?: { prompt_tokens: number; completion_tokens: number } | null }>;
    };
  };
}

export type ChatClientConstructor = new (options: {
  apiKey: string;
  baseURL: string;
  maxRetries: number;
  fetch?: typeof globalThis.fetch;
}) => ChatClient;

/**
 * `fetch`, with at most `limit` requests waiting for their response headers at a time. Admission happens before the
 * SDK's fetch, so this changes nothing the tests measure; it keeps 4 processes from opening 1,000 connections at once,
 * which overflows the fake provider's accept queue (511) and resets connections when its process stalls.
 */
export function limitConcurrency(fetch: typeof globalThis.fetch, limit: number): typeof globalThis.fetch {
  let running = 0;
  const queue: (() => void)[] = [];
  return async (input, init) => {
    if (running >= limit) await new Promise<void>((resolve) => queue.push(resolve));
    running += 1;
    try {
      return await fetch(input, init);
    } finally {
      running -= 1;
      queue.shift()?.();
    }
  };
}

export async function loadOpenAI(): Promise<ChatClientConstructor> {
  const fromHere = createRequire(import.meta.url);
  const fromTesting = createRequire(fromHere.resolve("@tollgate/testing/package.json"));
  const sdk: unknown = await import(fromTesting.resolve("openai"));
  const openAI = (sdk as { OpenAI?: unknown }).OpenAI;
  if (typeof openAI !== "function") throw new Error("could not load the OpenAI SDK through @tollgate/testing");
  return openAI as ChatClientConstructor;
}

/** Round prices (USD per 1M tokens), so the expected spend is plain arithmetic. */
export const testPrices = { "gpt-4o-mini": { input: 1, output: 2, cachedInput: 0.5 } };

/** The spend, in nano-USD, of a usage the fake provider reported, at `testPrices`. */
export function expectedCostNanoUsd(usage: { inputTokens: number; cachedInputTokens: number; outputTokens: number }) {
  return (
    (usage.inputTokens - usage.cachedInputTokens) * 1_000 + usage.cachedInputTokens * 500 + usage.outputTokens * 2_000
  );
}
