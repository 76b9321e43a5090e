import { randomUUID } from "node:crypto";
import { type FakeProviders, startFakeProviders } from "@tollgate/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, it } from "vitest";
import { expectExactRequests, expectUsdWorstCaseWithinLimit, keysMatching } from "./guarded-call-checks";
import { probeRedis, type RedisConnection, redisVerdict } from "./redis-availability";
import { startWorkers, type WorkerPool } from "./worker-pool";

const connection: RedisConnection = {
  host: process.env.REDIS_HOST ?? "127.0.0.1",
  port: Number(process.env.REDIS_PORT ?? 6379),
};
const probe = await probeRedis(connection);
const verdict = redisVerdict(probe, process.env.CI === "true");
if (!probe.reachable && verdict === "skip") {
  console.warn(
    `Skipping the multi-process Redis tests: no Redis at ${connection.host}:${connection.port} (${probe.reason}). In CI (CI=true) this fails instead.`,
  );
}

/** Every key this file writes starts with `{tollgate-test:<run>:`; they are deleted at the end. */
const runId = randomUUID();
const newPrefix = () => `tollgate-test:${runId}:${randomUUID()}:`;
let redis: Redis | undefined;
let fake: FakeProviders | undefined;
let workers: WorkerPool | undefined;

describe("Redis availability for the multi-process tests", () => {
  it.runIf(verdict === "fail")(`reaches Redis at ${connection.host}:${connection.port} (required in CI)`, () => {
    throw new Error(`CI=true but Redis is unreachable: ${probe.reachable ? "" : probe.reason}`);
  });
});

describe.runIf(verdict === "run")("guarded calls across 4 processes on one Redis", () => {
  beforeAll(async () => {
    redis = new Redis({ ...connection, enableOfflineQueue: false });
    fake = await startFakeProviders();
    workers = await startWorkers(4, { standalone: connection }, fake.openaiBaseURL);
  }, 60_000);

  afterAll(async () => {
    await workers?.close();
    await fake?.close();
    if (redis !== undefined) {
      for (const key of await keysMatching(redis, `{tollgate-test:${runId}:*`)) await redis.unlink(key);
      await redis.quit();
    }
  });

  const context = () => {
    if (workers === undefined || fake === undefined || redis === undefined) throw new Error("beforeAll did not run");
    return { workers, fake, redis };
  };

  it("4 processes × 250 concurrent guarded calls against requests: 400 admit exactly 400, and the ledger sums to the provider's usage", async () => {
    await expectExactRequests(context(), newPrefix());
  }, 90_000);

  it("4 processes × 250 concurrent guarded calls against a usd limit: the admitted worst case never exceeds it", async () => {
    await expectUsdWorstCaseWithinLimit(context(), newPrefix());
  }, 90_000);
});
