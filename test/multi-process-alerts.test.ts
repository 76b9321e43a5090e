import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { migrate } from "@tollgate/postgres";
import { type FakeProviders, startFakeProviders } from "@tollgate/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseUrl, deleteRedisPrefix, probePostgres, probeRedis, redisUrl, uniqueSchema } from "./service-probes";
import { startReceiver } from "./webhook-receiver";

// Two OS processes sharing one store push a $1 budget through 50/80/100 %: each threshold must reach the webhook
// receiver exactly once, signed. Redis and Postgres are required services: in CI (CI=true) a missing one fails the
// file; locally its half is skipped with a warning.
const secret = "whsec-multi-process";
const callsPerProcess = 8; // 16 calls of $0.10 against $1: the budget is full well before the last ones

const probes = { redis: await probeRedis(), postgres: await probePostgres() };

const redisPrefix = `tollgate-e2e-alerts:${randomUUID()}`;
const schema = uniqueSchema("alerts");
let pool: pg.Pool | undefined;
let fake: FakeProviders;
const children: ChildProcess[] = [];

beforeAll(async () => {
  fake = await startFakeProviders({ rules: [{ usage: { inputTokens: 60, outputTokens: 40 } }] }); // $0.10 a call
  if (probes.postgres.reachable) {
    pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    pool.on("error", () => undefined);
    await migrate(pool, { schema });
  }
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill();
  if (pool !== undefined) {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  }
  if (probes.redis.reachable) await deleteRedisPrefix(redisPrefix);
  await fake?.close();
});

interface WorkerResult {
  admitted: number;
  refused: number;
  errors: string[];
}

interface Worker {
  child: ChildProcess;
  ready: Promise<void>;
  result: Promise<WorkerResult>;
}

/** Starts test/alert-worker.ts in a new Node process, resolving workspace packages to their sources. */
function startWorker(index: number, env: Record<string, string>): Worker {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "--conditions=source", fileURLToPath(new URL("./alert-worker.ts", import.meta.url))],
    {
      cwd: fileURLToPath(new URL(".", import.meta.url)),
      env: { ...process.env, ...env, ALERT_WORKER_INDEX: String(index), ALERT_WORKER_CALLS: String(callsPerProcess) },
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.split("\n").includes("ready")) resolve();
    });
    void exited.then(([code]) => reject(new Error(`worker ${index} exited (${code}) before "ready": ${stderr}`)));
  });
  const result = exited.then(([code, signal]) => {
    if (code !== 0) throw new Error(`worker ${index} exited with ${code ?? signal}:\n${stdout}\n${stderr}`);
    return JSON.parse(stdout.trim().split("\n").at(-1) ?? "null") as WorkerResult;
  });
  result.catch(() => undefined); // awaited below; this only keeps an early exit from being an unhandled rejection
  return { child, ready, result };
}

const stores = {
  redis: () => ({ ALERT_WORKER_REDIS_URL: redisUrl, ALERT_WORKER_REDIS_PREFIX: redisPrefix }),
  postgres: () => ({ ALERT_WORKER_DATABASE_URL: databaseUrl, ALERT_WORKER_PG_SCHEMA: schema }),
} as const;

describe("budget alerts across two processes", () => {
  for (const kind of ["redis", "postgres"] as const) {
    const probe = probes[kind];
    it.skipIf(probe.skip)(
      `two processes sharing ${kind} deliver each threshold exactly once, with a valid signature`,
      async () => {
        probe.assertReachable();
        const receiver = await startReceiver(secret);
        try {
          const env = {
            ...stores[kind](),
            ALERT_WORKER_STORE: kind,
            ALERT_WORKER_OPENAI_URL: fake.openaiBaseURL,
            ALERT_WORKER_WEBHOOK_URL: receiver.url,
            ALERT_WORKER_SECRET: secret,
          };
          const workers = [0, 1].map((index) => startWorker(index, env));
          await Promise.all(workers.map((worker) => worker.ready));
          for (const worker of workers) worker.child.stdin?.end("go\n");
          const results = await Promise.all(workers.map((worker) => worker.result)); // both exited 0

          expect(results.flatMap((result) => result.errors)).toEqual([]);
          expect(results.reduce((sum, result) => sum + result.admitted, 0)).toBeGreaterThanOrEqual(10);
          // Deliveries were drained by each child's guard.close() before it exited.
          const thresholds = receiver.received.filter((delivery) => delivery.body.type === "budget.threshold");
          expect(receiver.received).toHaveLength(thresholds.length);
          expect(
            thresholds.map((delivery) => (delivery.body as { fraction: number }).fraction).sort((a, b) => a - b),
          ).toEqual([0.5, 0.8, 1]);
          expect(thresholds.every((delivery) => delivery.validSignature)).toBe(true);
          for (const delivery of thresholds) {
            expect(delivery.body).toMatchObject({ limitId: "monthly", scope: "global" });
          }
        } finally {
          await receiver.close();
        }
      },
      30_000,
    );
  }
});
