// Connections to the Redis and PostgreSQL servers, and the clean-up of what a run wrote there: Redis keys all contain
// `tollgate-bench-<runId>`, Postgres tables all live in the schema `tollgate_bench_<runId>`.
import { Redis } from "ioredis";
import pg from "pg";
import type { BenchContext } from "./context";

/** The substring every Redis key of this run contains. */
export function redisKeyTag(context: BenchContext): string {
  return `tollgate-bench-${context.runId}`;
}

export function postgresSchema(context: BenchContext): string {
  return `tollgate_bench_${context.runId}`;
}

/** One connection, as the Tollgate Redis store requires it (`enableOfflineQueue: false`), connected before use. */
export async function connectRedis(context: BenchContext): Promise<Redis> {
  const redis = new Redis(context.redisUrl, { enableOfflineQueue: false, lazyConnect: true });
  await redis.connect();
  return redis;
}

/** Deletes every key of this run (SCAN + UNLINK) and returns how many there were. */
export async function cleanUpRedis(redis: Redis, context: BenchContext): Promise<number> {
  let cursor = "0";
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `*${redisKeyTag(context)}*`, "COUNT", 2_000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== "0");
  return deleted;
}

/** Redis' own count of the bytes it uses (`INFO memory` used_memory). */
export async function redisUsedMemory(redis: Redis): Promise<number> {
  const info = await redis.info("memory");
  const match = /used_memory:(\d+)/.exec(info);
  if (match === null) throw new Error("INFO memory has no used_memory");
  return Number(match[1]);
}

/**
 * A pool of 16 connections. `relaxed` turns `synchronous_commit` off for its sessions: a commit no longer waits for
 * the WAL flush (a crash can lose the last few hundred ms of counts, never corrupt them).
 */
export function postgresPool(context: BenchContext, relaxed: boolean): pg.Pool {
  return new pg.Pool({
    connectionString: context.postgresUrl,
    max: 16,
    ...(relaxed ? { options: "-c synchronous_commit=off" } : {}),
  });
}

export async function createSchema(pool: pg.Pool, context: BenchContext): Promise<void> {
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${postgresSchema(context)}`);
}

export async function dropSchema(pool: pg.Pool, context: BenchContext): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS ${postgresSchema(context)} CASCADE`);
}
