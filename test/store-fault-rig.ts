import { randomUUID } from "node:crypto";
import type { TollgateStore } from "@tollgate/core";
import { createPostgresStore, migrate } from "@tollgate/postgres";
import { createRedisStore } from "@tollgate/redis";
import { Redis } from "ioredis";
import pg from "pg";
import { databaseUrl, deleteRedisPrefix, redisUrl, uniqueSchema } from "./service-probes";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy";

/**
 * A real store reached two ways: through a misbehaving loopback proxy (what the guards under test use), and
 * directly (what the test reads counters and the ledger through, unaffected by the fault).
 */
export interface StoreRig {
  label: "Redis" | "Postgres";
  proxy: TcpProxy;
  /** A new store with its own connection(s) through the proxy, and how to close them. */
  openProxiedStore(): { store: TollgateStore; close(): Promise<void> };
  directStore: TollgateStore;
  close(): Promise<void>;
}

export async function startRedisRig(): Promise<StoreRig> {
  const target = new URL(redisUrl);
  const proxy = await startTcpProxy(Number(target.port || 6379), target.hostname);
  const prefix = `tollgate-faults:${randomUUID()}`;
  const clients: Redis[] = [];
  const direct = new Redis(redisUrl, { enableOfflineQueue: false, lazyConnect: true });
  await direct.connect();
  return {
    label: "Redis",
    proxy,
    openProxiedStore() {
      const redis = new Redis({
        host: "127.0.0.1",
        port: proxy.port,
        enableOfflineQueue: false, // as the Redis store requires: a reconnect must never replay charges
        maxRetriesPerRequest: 0,
        retryStrategy: () => 50, // keep reconnecting, every 50 ms
      });
      redis.on("error", () => undefined);
      clients.push(redis);
      return {
        store: createRedisStore(redis, { prefix, commandTimeoutMs: 400 }),
        close: async () => redis.disconnect(),
      };
    },
    directStore: createRedisStore(direct, { prefix }),
    async close() {
      for (const client of clients) client.disconnect();
      direct.disconnect();
      await proxy.close();
      await deleteRedisPrefix(prefix);
    },
  };
}

export async function startPostgresRig(): Promise<StoreRig> {
  const target = new URL(databaseUrl);
  const proxy = await startTcpProxy(Number(target.port || 5432), target.hostname);
  const schema = uniqueSchema("faults");
  const admin = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  admin.on("error", () => undefined);
  await migrate(admin, { schema });
  const pools = new Set<pg.Pool>();
  const viaProxy = new URL(databaseUrl);
  viaProxy.hostname = "127.0.0.1";
  viaProxy.port = String(proxy.port);
  return {
    label: "Postgres",
    proxy,
    openProxiedStore() {
      const pool = new pg.Pool({ connectionString: viaProxy.toString(), max: 20, connectionTimeoutMillis: 1_000 });
      // node-postgres emits idle connections' errors on the pool; without a listener they would crash the process.
      pool.on("error", () => undefined);
      pools.add(pool);
      return {
        store: createPostgresStore(pool, { schema, sweepIntervalMs: 0 }),
        close: async () => {
          pools.delete(pool);
          await pool.end().catch(() => undefined);
        },
      };
    },
    directStore: createPostgresStore(admin, { schema, sweepIntervalMs: 0 }),
    async close() {
      await proxy.close();
      await Promise.all([...pools].map((pool) => pool.end().catch(() => undefined)));
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    },
  };
}
