import { Redis } from "ioredis";

export interface RedisConnection {
  host: string;
  port: number;
}

export type RedisProbe = { reachable: true } | { reachable: false; reason: string };

/** What a test file does about Redis: run, fail (CI must never silently skip), or skip with a message. */
export type RedisVerdict = "run" | "fail" | "skip";

/** Connects once, without retries, and PINGs. */
export async function probeRedis(connection: RedisConnection): Promise<RedisProbe> {
  const client = new Redis({
    ...connection,
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
    return { reachable: true };
  } catch (error) {
    const cause = connectionError ?? error;
    return { reachable: false, reason: cause instanceof Error ? cause.message : String(cause) };
  } finally {
    client.disconnect();
  }
}

export function redisVerdict(probe: RedisProbe, ci: boolean): RedisVerdict {
  if (probe.reachable) return "run";
  return ci ? "fail" : "skip";
}
