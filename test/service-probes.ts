import { Redis } from "ioredis";
import pg from "pg";

// Redis and Postgres are required services: in CI (CI=true) a missing one fails the test that needs it; locally that
// test is skipped with a warning.
export const ci = process.env.CI === "true";
export const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export interface ServiceProbe {
  kind: "redis" | "postgres";
  reachable: boolean;
  reason: string;
  /** Skip the test: unreachable outside CI. */
  skip: boolean;
  /** Throws inside a test when the service is unreachable (only reached in CI, where nothing is skipped). */
  assertReachable(): void;
}

function verdict(kind: ServiceProbe["kind"], reason: string | undefined): ServiceProbe {
  const reachable = reason === undefined;
  if (!reachable && !ci) console.warn(`Skipping the ${kind} tests of this file: ${reason}`);
  return {
    kind,
    reachable,
    reason: reason ?? "",
    skip: !reachable && !ci,
    assertReachable() {
      if (!reachable) throw new Error(`CI=true but ${kind} is unreachable: ${reason}`);
    },
  };
}

export async function probeRedis(): Promise<ServiceProbe> {
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 2_000, retryStrategy: () => null });
  let cause: Error | undefined;
  redis.on("error", (error: Error) => {
    cause ??= error;
  });
  try {
    await redis.connect();
    await redis.ping();
    return verdict("redis", undefined);
  } catch (error) {
    const reason = cause ?? error;
    return verdict("redis", reason instanceof Error ? reason.message : String(reason));
  } finally {
    redis.disconnect();
  }
}

export async function probePostgres(): Promise<ServiceProbe> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 2_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
    return verdict("postgres", undefined);
  } catch (error) {
    return verdict("postgres", error instanceof Error ? error.message : String(error));
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Deletes every key of a Redis store prefix (`{<prefix>}…`), so runs leave nothing behind. */
export async function deleteRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `{${prefix}}*`, "COUNT", 1_000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    await redis.quit();
  }
}

/** A Postgres schema name no other test file or run uses. */
export function uniqueSchema(label: string): string {
  return `tollgate_test_${label}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}
