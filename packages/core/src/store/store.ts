import type { OperationKind } from "../usage/operation";
import type { ProviderName } from "../usage/token-usage";
import type { AlertLogEntry, AlertLogQuery } from "./alert-log";

/**
 * How a counter forgets. The core decides windows and keys; a store only applies them atomically.
 * - `sliding`: a rolling window of `windowMs` split into `slots` slots; a charge lands in the slot of the store's
 *   current time and counts while any part of that slot is inside the window.
 * - `fixed`: one counter for a calendar period that ends at `endsAt` (epoch ms); the key names the period.
 * - `concurrency`: counts unsettled reservations whose lease has not expired.
 */
export type CounterWindow =
  | { kind: "sliding"; windowMs: number; slots: number }
  | { kind: "fixed"; endsAt: number }
  | { kind: "concurrency" };

/** One limit's part of an admission. Amounts are non-negative integers (requests, tokens or nano-USD). */
export interface CounterCharge {
  key: string;
  amount: number;
  capacity: number;
  window: CounterWindow;
  /** `false` for shadow limits: counted, never refusing. */
  enforce: boolean;
}

export interface AdmitRequest {
  reservationId: string;
  charges: readonly CounterCharge[];
  /** Block-list keys to check first (one per scope of the subject, plus the global one). */
  blockKeys: readonly string[];
  /** How long an unsettled reservation holds its concurrency slots. */
  leaseMs: number;
  /** Check only: report what admission would answer, reserve nothing. */
  dryRun?: boolean;
}

export interface BlockEntry {
  key: string;
  reason: string | undefined;
  /** Epoch ms when the block lifts by itself, `undefined` for none. */
  until: number | undefined;
  createdAt: number;
}

export type AdmitResult =
  | {
      admitted: true;
      /** The store's clock at admission (epoch ms). */
      now: number;
      /** Indexes of shadow charges (`enforce: false`) that would have refused. */
      shadowRefusals: number[];
      /** Usage of each charge after this admission, same order as the request (concurrency: calls in flight). */
      usedAfter: number[];
    }
  | {
      admitted: false;
      now: number;
      refusal: { kind: "limit"; chargeIndex: number; used: number; retryAfterMs: number | undefined };
    }
  | { admitted: false; now: number; refusal: { kind: "blocked"; entry: BlockEntry } };

export interface SettleRequest {
  reservationId: string;
  /** The true amount of each charge, same order as admission; concurrency charges are released whatever their value. */
  amounts: readonly number[];
}

/** One settled call, as kept in the ledger. Token fields follow `TokenUsage`: totals include their parts. */
export interface UsageRecord {
  /**
   * The call's id, which makes writing the record idempotent (see `TollgateStore.record`). The guard always sets it
   * (the call's reservation id), so it can retry a write that failed or timed out. Optional for records written by
   * other code: a record without an id is never deduplicated, each write counts.
   */
  id?: string | undefined;
  /** Epoch ms the call was admitted. */
  time: number;
  provider: ProviderName;
  model: string;
  operation: OperationKind;
  user?: string | undefined;
  ip?: string | undefined;
  key?: string | undefined;
  tenant?: string | undefined;
  session?: string | undefined;
  inputTokens: number;
  cachedInputTokens: number;
  cacheWriteInputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  costNanoUsd: number;
  /** Some numbers are estimates (aborted stream, missing usage). */
  estimated: boolean;
  status: "ok" | "aborted" | "error";
  latencyMs: number;
}

export type UsageGroupKey = "user" | "ip" | "key" | "tenant" | "model" | "provider" | "day";

export interface UsageQuery {
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, exclusive. */
  until?: number;
  groupBy?: readonly UsageGroupKey[];
  /** Only rows matching these values. */
  where?: Partial<Record<Exclude<UsageGroupKey, "day">, string>>;
}

export interface UsageRow {
  /** The values of the `groupBy` keys; `day` is `YYYY-MM-DD` in UTC. */
  group: Partial<Record<UsageGroupKey, string>>;
  requests: number;
  inputTokens: number;
  cachedInputTokens: number;
  cacheWriteInputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  costNanoUsd: number;
  estimatedRequests: number;
  errorRequests: number;
}

/**
 * What every store does. Stores stay dumb and atomic: the core builds keys, windows and amounts; a store applies
 * all charges of one admission together or none of them, never charging a refused call.
 */
export interface TollgateStore {
  /** Checks every charge and, only if all enforced ones fit and no block key is set, reserves them all. */
  admit(request: AdmitRequest): Promise<AdmitResult>;
  /** Replaces the reservation by the true amounts. Idempotent: a second settle of the same id changes nothing. */
  settle(request: SettleRequest): Promise<void>;
  /** Extends the lease of a reservation still in flight; `false` when it is unknown (settled or swept). */
  extendLease(reservationId: string, leaseMs: number): Promise<boolean>;
  /**
   * Adds a record to the ledger. Idempotent by `record.id`: for at least 10 minutes after the first write of an id
   * (the guard's retries of a failed write span about 90 s), writing a record with the same id again, even
   * concurrently, changes nothing. So a write that failed or timed out, and may have been applied, can be retried.
   * Records without an id are never deduplicated: each write counts.
   */
  record(record: UsageRecord): Promise<void>;
  queryUsage(query: UsageQuery): Promise<UsageRow[]>;
  block(entry: BlockEntry): Promise<void>;
  unblock(key: string): Promise<void>;
  listBlocked(): Promise<BlockEntry[]>;
  /** Sets a marker once; `true` for the caller that set it, `false` when it already existed. */
  markOnce(key: string, ttlMs: number): Promise<boolean>;
  /**
   * Appends a delivered alert to the alert log (the guard records each alert once, from the instance that set its
   * once-marker). The log is bounded: at most `alertLogMaxEntries` entries (default 10,000; beyond it the oldest
   * go), and none older than `alertLogRetentionMs` (default 400 days) before the entry being recorded.
   */
  recordAlert(entry: AlertLogEntry): Promise<void>;
  /**
   * Alerts of the log with `since <= time < until`, **newest first** (entries with the same time in no set order),
   * at most `limit` of them; each exactly as recorded.
   */
  listAlerts(query?: AlertLogQuery): Promise<AlertLogEntry[]>;
  close(): Promise<void>;
}
