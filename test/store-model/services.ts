import { Redis } from "ioredis";
import pg from "pg";

/**
 * Whether a server the model tests need is there. Locally a missing server skips its file with a warning; in CI
 * (`CI=true`) it fails the file, never skipping silently. (The probes of packages/redis/test and
 * packages/postgres/test, copied: the e2e project imports nothing from other packages' test folders.)
 */
export type ServiceVerdict = { run: true } | { run: false; mustFail: boolean; reason: string };

export const redisConnection = {
  host: process.env.REDIS_HOST ?? "127.0.0.1",
  port: Number(process.env.REDIS_PORT ?? 6379),
};
export const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export async function redisVerdict(): Promise<ServiceVerdict> {
  const client = new Redis({
    ...redisConnection,
    lazyConnect: true,
    enableOfflineQueue: false,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  let connectionError: Error | undefined;
  client.on("error", (error: Error) => {
    connectionError ??= error;
  });
  try {
    await client.connect();
    await client.ping();
    return { run: true };
  } catch (error) {
    return verdictFor("Redis", `${redisConnection.host}:${redisConnection.port}`, connectionError ?? error);
  } finally {
    client.disconnect();
  }
}

export async function postgresVerdict(): Promise<ServiceVerdict> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 2_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
    return { run: true };
  } catch (error) {
    return verdictFor("Postgres", redactedUrl(databaseUrl), error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function verdictFor(service: string, address: string, error: unknown): ServiceVerdict {
  const mustFail = process.env.CI === "true";
  const reason = `${service} unreachable at ${address}: ${error instanceof Error ? error.message : String(error)}`;
  if (!mustFail) console.warn(`Skipping the ${service} model tests: ${reason}. In CI (CI=true) this fails instead.`);
  return { run: false, mustFail, reason };
}

function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}
