// Child process of the multi-process exactness test: connects, reports "ready", waits for "go" on stdin, then fires
// its guarded model calls all at once and prints how many were admitted, refused by the limit, or failed otherwise.
import { guardedClient, LimitExceededError } from "@tollgate/core";
import pg from "pg";
import { createPostgresStore } from "../src/index";
import { limitConcurrency, loadOpenAI, testPrices } from "./openai-sdk";

const [connectionString = "", schema = "", baseURL = "", calls = "0", capacity = "0"] = process.argv.slice(2);
const pool = new pg.Pool({ connectionString, max: 8 });
pool.on("error", () => undefined);
const OpenAI = await loadOpenAI();
const guard = guardedClient({
  providers: {
    openai: new OpenAI({
      apiKey: "sk-test-multi-process",
      baseURL,
      maxRetries: 0,
      fetch: limitConcurrency(globalThis.fetch, 32),
    }),
  },
  store: createPostgresStore(pool, { schema, sweepIntervalMs: 0 }),
  prices: testPrices,
  limits: [{ id: "shared-requests", scope: "global", requests: Number(capacity), per: "1m" }],
  // The test measures exactness, not latency: 1,000 calls queue for 32 connections and one hot row.
  storeTimeoutMs: 60_000,
});
const { openai } = guard.for({ user: `process-${process.pid}` });
await pool.query("SELECT 1");
process.stdout.write("ready\n");
await new Promise<void>((resolve) => process.stdin.once("data", () => resolve()));
process.stdin.destroy();

const outcomes = await Promise.allSettled(
  Array.from({ length: Number(calls) }, (_, index) =>
    openai.chat.completions.create({
      model: "gpt-4o-mini",
      // Prompts of different lengths, so calls report different usage.
      messages: [{ role: "user", content: `call ${index} ${"x".repeat(40 + (index % 37) * 4)}` }],
      max_tokens: 8 + (index % 5),
    }),
  ),
);
const errors = outcomes.flatMap((outcome) =>
  outcome.status === "rejected" && !LimitExceededError.isInstance(outcome.reason)
    ? [outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason)]
    : [],
);
await guard.close();
await pool.end();
process.stdout.write(
  `${JSON.stringify({
    admitted: outcomes.filter((outcome) => outcome.status === "fulfilled").length,
    refused: outcomes.filter(
      (outcome) => outcome.status === "rejected" && LimitExceededError.isInstance(outcome.reason),
    ).length,
    errors,
  })}\n`,
);
