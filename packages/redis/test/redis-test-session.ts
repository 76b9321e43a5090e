import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll } from "vitest";
import { probeRedis, type RedisConnection, redisVerdict } from "./redis-availability";

/**
 * What a small Redis test file shares: the connection, the verdict on it (run, fail in CI, skip elsewhere), clients
 * that are closed after the file, and store prefixes `{tollgate-<label>-test:<run>:…}` whose keys are deleted then.
 */
export async function redisTestSession(label: string) {
  const connection: RedisConnection = {
    host: process.env.REDIS_HOST ?? "127.0.0.1",
    port: Number(process.env.REDIS_PORT ?? 6379),
  };
  const verdict = redisVerdict(await probeRedis(connection), process.env.CI === "true");
  const runPrefix = `tollgate-${label}-test:${randomUUID()}:`;
  const clients: Redis[] = [];

  function newClient(): Redis {
    const client = new Redis({ ...connection, enableOfflineQueue: false, lazyConnect: true });
    client.on("error", () => undefined);
    clients.push(client);
    return client;
  }

  afterAll(async () => {
    if (verdict === "run") {
      const cleaner = newClient();
      await cleaner.connect();
      const keys = await cleaner.keys(`{${runPrefix}*`);
      if (keys.length > 0) await cleaner.unlink(...keys);
    }
    await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
  });

  return { connection, verdict, newClient, newPrefix: () => `${runPrefix}${randomUUID()}:` };
}
