// Child process of multi-process-alerts.test.ts: one "app server". It builds its own guard on the shared store
// (Redis or Postgres, from the environment), prints "ready", waits for "go" on stdin so both processes start
// together, makes its share of the calls that push a $1 budget through 50/80/100 %, drains its alerts with
// `guard.close()`, closes its connections and prints a JSON summary as its last line.
import { guardedClient, LimitExceededError, type TollgateStore, webhookSink } from "@tollgate/core";
import { createPostgresStore } from "@tollgate/postgres";
import { createRedisStore } from "@tollgate/redis";
import { Redis } from "ioredis";
import OpenAI from "openai";
import pg from "pg";

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`alert-worker: ${name} is not set`);
  return value;
}

const kind = required("ALERT_WORKER_STORE");
const worker = required("ALERT_WORKER_INDEX");
const calls = Number(required("ALERT_WORKER_CALLS"));

let store: TollgateStore;
let closeConnections: () => Promise<void>;
if (kind === "redis") {
  const redis = new Redis(required("ALERT_WORKER_REDIS_URL"), { enableOfflineQueue: false, lazyConnect: true });
  await redis.connect();
  store = createRedisStore(redis, { prefix: required("ALERT_WORKER_REDIS_PREFIX") });
  closeConnections = async () => {
    await redis.quit();
  };
} else if (kind === "postgres") {
  const pool = new pg.Pool({ connectionString: required("ALERT_WORKER_DATABASE_URL"), max: 4 });
  pool.on("error", () => undefined);
  await pool.query("SELECT 1");
  store = createPostgresStore(pool, { schema: required("ALERT_WORKER_PG_SCHEMA"), sweepIntervalMs: 0 });
  closeConnections = () => pool.end();
} else {
  throw new Error(`alert-worker: unknown store ${kind}`);
}

const guard = guardedClient({
  providers: {
    openai: new OpenAI({ apiKey: "sk-test-alert-worker", baseURL: required("ALERT_WORKER_OPENAI_URL"), maxRetries: 0 }),
  },
  store,
  limits: [{ id: "monthly", scope: "global", usd: 1, period: "month" }],
  prices: { "gpt-4o-mini": { input: 1_000, output: 1_000 } }, // $0.001 per token: the fake's usage makes $0.10 a call
  alerts: {
    sinks: [webhookSink({ url: required("ALERT_WORKER_WEBHOOK_URL"), secret: required("ALERT_WORKER_SECRET") })],
    projected: false,
  },
});

process.stdout.write("ready\n");
await new Promise<void>((resolve) => process.stdin.once("data", () => resolve()));
process.stdin.destroy();

let admitted = 0;
let refused = 0;
const errors: string[] = [];
for (let call = 0; call < calls; call++) {
  try {
    await guard.for({ user: `w${worker}-u${call % 2}` }).openai.chat.completions.create({
      model: "gpt-4o-mini",
      max_tokens: 40,
      messages: [{ role: "user", content: `worker ${worker} question ${call}` }],
    });
    admitted++;
  } catch (error) {
    if (LimitExceededError.isInstance(error)) refused++;
    else errors.push(error instanceof Error ? error.message : String(error));
  }
}
await guard.close();
await closeConnections();
process.stdout.write(`${JSON.stringify({ admitted, refused, errors })}\n`);
