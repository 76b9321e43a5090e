import type { Cluster, Redis } from "ioredis";

/** The clients the store runs on: a standalone (or Sentinel) ioredis client, or an ioredis Cluster. */
export type RedisClient = Redis | Cluster;
