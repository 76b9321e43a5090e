// What the parent test and its worker processes (guarded-calls-worker.ts) exchange, one JSON line at a time.
import type { Limit } from "@tollgate/core";
import type { RedisConnection } from "./redis-availability";

/** Where a worker's Redis is: one server, or the nodes of a Cluster. */
export type WorkerTopology = { standalone: RedisConnection } | { cluster: RedisConnection[] };

export interface WorkerRound {
  prefix: string;
  limits: Limit[];
  calls: number;
  /** One prompt for every call; without it, each call sends a prompt of its own length. */
  prompt?: string;
  /** Output cap of every call; without it, 8 to 12 by call. */
  maxTokens?: number;
  /** Loop and anomaly detection; off when every call sends the same prompt on purpose. */
  detectors: boolean;
}

export interface WorkerResult {
  admitted: number;
  refused: number;
  /** Messages of the calls that failed for another reason than a limit (store, SDK, network). */
  errors: string[];
  /** Messages of the guard's `store.error` events. */
  storeErrors: string[];
  /** The budget-threshold alerts this worker delivered, as `<limitId>@<fraction>`. */
  budgetAlerts: string[];
  /** Σ worst-case cost reserved by the admitted calls (the `call.admitted` estimates), nano-USD. */
  reservedNanoUsd: number;
  /** The distinct worst-case costs reserved, nano-USD. */
  reservedCostsNanoUsd: number[];
  /** Σ cost the admitted calls were settled at, nano-USD. */
  settledNanoUsd: number;
}

/** Prices in USD per 1M tokens: round numbers, so expected spend is plain arithmetic. */
export const workerPrices = { "gpt-4o-mini": { input: 1, output: 2, cachedInput: 0.5 } };

/** The `user` of every call a worker makes, so the ledger can be grouped by process. */
export const workerUser = (pid: number) => `process-${pid}`;
