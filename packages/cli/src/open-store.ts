import type { TollgateStore } from "@tollgate/core";

/** A store opened from a URL, with whatever connection it made, so the command can close both. */
export interface OpenedStore {
  store: TollgateStore;
  close(): Promise<void>;
}

/**
 * Opens the store a URL names: `redis://host:port/db` (or `rediss://`) with `?prefix=` for a non-default key
 * prefix, `postgres://…` / `postgresql://…` with `?schema=`, or `pglite:./folder` for an embedded database on disk.
 * Drivers are loaded only for the store asked for.
 */
export async function openStore(url: string): Promise<OpenedStore> {
  if (/^rediss?:\/\//.test(url)) {
    const parsed = new URL(url);
    const prefix = parsed.searchParams.get("prefix") ?? undefined;
    parsed.search = "";
    const [{ Redis }, { createRedisStore }] = await Promise.all([import("ioredis"), import("@tollgate/redis")]);
    const redis = new Redis(parsed.toString(), {
      enableOfflineQueue: false,
      lazyConnect: true,
      maxRetriesPerRequest: 1,
    });
    redis.on("error", () => undefined); // connection errors surface through the first command
    await redis.connect();
    const store = createRedisStore(redis, prefix === undefined ? {} : { prefix });
    return {
      store,
      close: async () => {
        await store.close();
        redis.disconnect();
      },
    };
  }
  if (/^postgres(ql)?:\/\//.test(url) || url.startsWith("pglite:")) {
    return openPostgresStore(url);
  }
  throw new Error(`unknown store URL "${redactUrl(url)}": use redis://…, postgres://… or pglite:./folder`);
}

async function openPostgresStore(url: string): Promise<OpenedStore> {
  const { createPostgresStore, migrate } = await import("@tollgate/postgres");
  if (url.startsWith("pglite:")) {
    const { PGlite } = await import("@electric-sql/pglite");
    const database = new PGlite(url.slice("pglite:".length));
    // An embedded database belongs to this folder alone: creating its schema on first use is what a user expects.
    await migrate(database);
    const store = createPostgresStore(database);
    return {
      store,
      close: async () => {
        await store.close();
        await database.close();
      },
    };
  }
  const parsed = new URL(url);
  const schema = parsed.searchParams.get("schema") ?? undefined;
  parsed.searchParams.delete("schema");
  const { default: pg } = await import("pg");
  const pool = new pg.Pool({ connectionString: parsed.toString(), max: 2 });
  const store = createPostgresStore(pool, schema === undefined ? {} : { schema });
  return {
    store,
    close: async () => {
      await store.close();
      await pool.end();
    },
  };
}

/** A URL without its password, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]+@/, "//$1:***@");
}
