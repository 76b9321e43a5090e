// Child process of crash.test.ts: one app server making guarded calls under load (streamed and not, held at the
// provider for random times) on a shared Redis or Postgres store until its parent kills it with SIGKILL. It prints
// one line per call event (see `CrashLine`); the parent reconstructs from them, and from the fake provider's log,
// what the store must hold.
import { type GuardEvent, guardedClient, LimitExceededError, type TollgateStore } from "@tollgate/core";
import { createPostgresStore } from "@tollgate/postgres";
import { createRedisStore } from "@tollgate/redis";
import { fakeRuleHeader } from "@tollgate/testing";
import { Redis } from "ioredis";
import OpenAI from "openai";
import pg from "pg";
import { type CrashLine, crashLeaseMs, crashLimits, crashModel, crashPrices, formatCrashLine } from "./crash-setup";

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`crash-child: ${name} is not set`);
  return value;
}

const child = required("CRASH_CHILD");
const loops = Number(required("CRASH_LOOPS"));
const userParallel = Number(required("CRASH_USER_PARALLEL"));
const print = (line: CrashLine) => process.stdout.write(formatCrashLine(line));

let store: TollgateStore;
if (required("CRASH_STORE") === "redis") {
  const redis = new Redis(required("CRASH_REDIS_URL"), { enableOfflineQueue: false, lazyConnect: true });
  await redis.connect();
  store = createRedisStore(redis, { prefix: required("CRASH_REDIS_PREFIX") });
} else {
  const pool = new pg.Pool({ connectionString: required("CRASH_DATABASE_URL"), max: 8 });
  pool.on("error", () => undefined);
  await pool.query("SELECT 1");
  store = createPostgresStore(pool, { schema: required("CRASH_PG_SCHEMA"), sweepIntervalMs: 0 });
}

const onEvent = (event: GuardEvent) => {
  if (!("subject" in event) || event.subject.key === undefined) return;
  const call = event.subject.key;
  if (event.type === "call.admitted") {
    const { inputTokens, outputTokens, costNanoUsd } = event.estimate;
    print({ kind: "admitted", call, tokens: inputTokens + outputTokens, usdNano: costNanoUsd });
  } else if (event.type === "call.settled") {
    const { inputTokens, outputTokens, costNanoUsd, status } = event.record;
    print({ kind: "settled", call, tokens: inputTokens + outputTokens, usdNano: costNanoUsd, status });
  } else if (event.type === "call.refused") {
    print({ kind: "refused", call, code: event.error.code });
  }
};

const guard = guardedClient({
  providers: {
    openai: new OpenAI({ apiKey: "sk-test-crash-child", baseURL: required("CRASH_OPENAI_URL"), maxRetries: 0 }),
  },
  store,
  limits: crashLimits(userParallel),
  prices: crashPrices,
  leaseMs: crashLeaseMs,
  // Not a timeout test: a loaded machine must not turn admissions into store errors.
  storeTimeoutMs: 15_000,
  onEvent,
});

const between = (low: number, high: number) => low + Math.floor(Math.random() * (high - low + 1));
const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** One call: streamed or not, held at the provider for a while, with a cap far above the fake's 16 output tokens. */
async function oneCall(call: string): Promise<void> {
  const ai = guard.for({ user: `crash-child-${child}`, key: call });
  const fault = { latencyMs: between(50, 700), chunkDelayMs: between(10, 60) };
  const body = {
    model: crashModel,
    max_tokens: between(200, 400),
    messages: [{ role: "user" as const, content: `crash ${call} ${"x".repeat(between(10, 200))}` }],
  };
  const options = { headers: fakeRuleHeader({ fault }) };
  if (Math.random() < 0.5) {
    await ai.openai.chat.completions.create(body, options);
    return;
  }
  const stream = await ai.openai.chat.completions.create({ ...body, stream: true }, options);
  for await (const _chunk of stream) {
    // Read to the end, as a caller relaying the stream would.
  }
}

async function loop(index: number): Promise<void> {
  for (let sequence = 0; ; sequence++) {
    const call = `c${child}-${index}-${sequence}`;
    print({ kind: "start", call });
    try {
      await oneCall(call);
    } catch (error) {
      // Refusals are printed by the event handler; anything else is a failure the parent reports.
      if (!LimitExceededError.isInstance(error)) {
        print({ kind: "failed", call, message: error instanceof Error ? error.message : String(error) });
      }
      await sleep(between(10, 60));
    }
  }
}

// A first call loads the tokenizer and opens the connections, so the run that follows is all load.
print({ kind: "start", call: `c${child}-warm-0` });
await oneCall(`c${child}-warm-0`);
print({ kind: "ready" });
await Promise.all(Array.from({ length: loops }, (_, index) => loop(index)));
