import {
  type AdmitRequest,
  type AdmitResult,
  type AlertLogEntry,
  type AlertLogQuery,
  type BlockEntry,
  ConfigurationError,
  defaultAlertLogMaxEntries,
  defaultAlertLogRetentionMs,
  type SettleRequest,
  type TollgateStore,
  type UsageQuery,
  type UsageRecord,
  type UsageRow,
} from "@tollgate/core";
import type { Cluster, Redis } from "ioredis";
import { admitCall, parseAdmitReply } from "./internal/admit-script";
import { AlertLogCommands } from "./internal/alert-log-commands";
import { parseBlockEntry } from "./internal/block-entry";
import { blockCall, unblockCall } from "./internal/block-list-scripts";
import { withDeadline } from "./internal/command-deadline";
import { extendLeaseCall } from "./internal/extend-lease-script";
import { KeyLayout } from "./internal/key-layout";
import { positiveMilliseconds } from "./internal/numbers";
import { recordUsageCall } from "./internal/record-usage-script";
import type { RedisClient } from "./internal/redis-client";
import { settleCall } from "./internal/settle-script";
import { defineTollgateScripts, type TollgateScripts } from "./internal/tollgate-scripts";
import { type DayAggregate, dayMs, decodeDimensions, groupUsage, parseTotals } from "./internal/usage-totals";

export interface RedisStoreOptions {
  /**
   * Starts every key, and is the Cluster hash tag: keys are `{<prefix>}<kind>:<key>`, so all keys of a store share
   * one slot. Give each tenant deployment its own prefix to spread them over a Cluster. No `{`, `}` or control
   * characters.
   * Default `"tollgate:"`.
   */
  prefix?: string;
  /** Deadline of each Redis round trip, in ms; on expiry the call rejects (the guard's `onStoreError` decides). Default 1000. */
  commandTimeoutMs?: number;
  /** How long a reservation stays settleable after its lease expired, in ms. Default one hour. */
  settleGraceMs?: number;
  /** How long usage aggregates are kept after the end of their UTC day, in ms. Default 35 days. */
  ledgerRetentionMs?: number;
  /** Most entries the alert log keeps; recording more drops the oldest. Default 10,000. */
  alertLogMaxEntries?: number;
  /** Alert log entries this much older than the one being recorded are dropped, and the log key expires this long after its last record, in ms. Default 400 days. */
  alertLogRetentionMs?: number;
}

const defaultPrefix = "tollgate:";
const defaultCommandTimeoutMs = 1_000;
const defaultSettleGraceMs = 3_600_000;
const defaultLedgerRetentionMs = 35 * dayMs;
/** Commands per pipeline when reading the ledger, to bound reply buffers. */
const ledgerReadBatch = 1_000;

/**
 * A `TollgateStore` on an ioredis client (standalone, Sentinel or Cluster), shared by every instance of an app.
 * Admission is one Lua script and one round trip whatever the number of limits, on Redis' clock. The client must be
 * created with `enableOfflineQueue: false`, so a reconnect never replays charges. The store does not own the client:
 * `close()` leaves it open.
 */
export function createRedisStore(redis: Redis | Cluster, options: RedisStoreOptions = {}): TollgateStore {
  return new RedisStore(redis, options);
}

class RedisStore implements TollgateStore {
  private readonly client: RedisClient;
  private readonly layout: KeyLayout;
  private readonly scripts: TollgateScripts;
  private readonly commandTimeoutMs: number;
  private readonly settleGraceMs: number;
  private readonly ledgerRetentionMs: number;
  private readonly alertLog: AlertLogCommands;

  constructor(client: RedisClient, options: RedisStoreOptions) {
    checkClient(client);
    const prefix = options.prefix ?? defaultPrefix;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this rejects.
    if (typeof prefix !== "string" || prefix === "" || /[{}\u0000-\u001f\u007f]/.test(prefix)) {
      throw new ConfigurationError(
        "prefix",
        "must be a non-empty string without `{`, `}` (it is the hash tag) or control characters (a reservation record lists its keys one per line)",
      );
    }
    this.client = client;
    this.layout = new KeyLayout(prefix);
    this.commandTimeoutMs = positiveInteger(options.commandTimeoutMs, "commandTimeoutMs", defaultCommandTimeoutMs, 1);
    this.settleGraceMs = positiveInteger(options.settleGraceMs, "settleGraceMs", defaultSettleGraceMs, 0);
    this.ledgerRetentionMs = positiveInteger(
      options.ledgerRetentionMs,
      "ledgerRetentionMs",
      defaultLedgerRetentionMs,
      1,
    );
    this.scripts = defineTollgateScripts(client);
    this.alertLog = new AlertLogCommands(client, prefix, {
      maxEntries: positiveInteger(options.alertLogMaxEntries, "alertLogMaxEntries", defaultAlertLogMaxEntries, 1),
      retentionMs: positiveInteger(options.alertLogRetentionMs, "alertLogRetentionMs", defaultAlertLogRetentionMs, 1),
    });
  }

  async admit(request: AdmitRequest): Promise<AdmitResult> {
    const call = admitCall(this.layout, request, this.settleGraceMs);
    return parseAdmitReply(await this.send("admit", () => this.scripts.admit(call)));
  }

  async settle(request: SettleRequest): Promise<void> {
    const call = settleCall(this.layout, request);
    await this.send("settle", () => this.scripts.settle(call));
  }

  async extendLease(reservationId: string, leaseMs: number): Promise<boolean> {
    const call = extendLeaseCall(this.layout, reservationId, leaseMs, this.settleGraceMs);
    return (await this.send("extendLease", () => this.scripts.extendLease(call))) === 1;
  }

  async record(record: UsageRecord): Promise<void> {
    const call = recordUsageCall(this.layout, record, this.ledgerRetentionMs);
    await this.send("record", () => this.scripts.recordUsage(call));
  }

  /** Reads the aggregates of the UTC days overlapping `since`/`until` (day granularity), then groups them here. */
  async queryUsage(query: UsageQuery): Promise<UsageRow[]> {
    const firstDay = query.since === undefined ? "-inf" : String(Math.floor(query.since / dayMs));
    const lastDay = query.until === undefined ? "+inf" : String(Math.ceil(query.until / dayMs) - 1);
    const days = await this.send("queryUsage", () =>
      this.client.zrangebyscore(this.layout.usageDays(), firstDay, lastDay),
    );
    const tuplesByDay = await this.readBatches("queryUsage", days, (pipeline, day) =>
      pipeline.smembers(this.layout.usageIndex(day)),
    );
    const wanted: { day: string; tuple: string }[] = [];
    days.forEach((day, index) => {
      const tuples = tuplesByDay[index];
      if (Array.isArray(tuples)) for (const tuple of tuples) wanted.push({ day, tuple: String(tuple) });
    });
    const hashes = await this.readBatches("queryUsage", wanted, (pipeline, { day, tuple }) =>
      pipeline.hgetall(this.layout.usage(day, tuple)),
    );
    const aggregates: DayAggregate[] = [];
    wanted.forEach(({ day, tuple }, index) => {
      const hash = hashes[index];
      if (!isStringRecord(hash) || Object.keys(hash).length === 0) return;
      aggregates.push({ day, dimensions: decodeDimensions(tuple), totals: parseTotals(hash) });
    });
    return groupUsage(aggregates, query);
  }

  async block(entry: BlockEntry): Promise<void> {
    const call = blockCall(this.layout, entry);
    await this.send("block", () => this.scripts.block(call));
  }

  async unblock(key: string): Promise<void> {
    const call = unblockCall(this.layout, key);
    await this.send("unblock", () => this.scripts.unblock(call));
  }

  async listBlocked(): Promise<BlockEntry[]> {
    const keys = await this.send("listBlocked", () => this.client.zrange(this.layout.blockIndex(), "0", "-1"));
    if (keys.length === 0) return [];
    const [entries, [seconds, microseconds]] = await Promise.all([
      this.send("listBlocked", () => this.client.mget(keys.map((key) => this.layout.block(key)))),
      this.send("listBlocked", () => this.client.time()),
    ]);
    // Redis still returns a key in the millisecond it expires; a block has ended at its `until` (as admission sees it).
    const now = Number(seconds) * 1000 + Math.floor(Number(microseconds) / 1000);
    return entries.flatMap((entry) => {
      if (entry === null) return [];
      const parsed = parseBlockEntry(entry);
      return parsed.until === undefined || parsed.until > now ? [parsed] : [];
    });
  }

  async markOnce(key: string, ttlMs: number): Promise<boolean> {
    const ttl = positiveMilliseconds(ttlMs, "ttlMs");
    const reply = await this.send("markOnce", () => this.client.set(this.layout.marker(key), "1", "PX", ttl, "NX"));
    return reply === "OK";
  }

  /** One MULTI round trip: append, trim to the retention and the maximum, renew the key's TTL. */
  async recordAlert(entry: AlertLogEntry): Promise<void> {
    await this.send("recordAlert", () => this.alertLog.record(entry));
  }

  async listAlerts(query: AlertLogQuery = {}): Promise<AlertLogEntry[]> {
    return this.send("listAlerts", () => this.alertLog.list(query));
  }

  /** The client belongs to the caller, who may share it: closing the store leaves it open. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  private send<T>(operation: string, command: () => Promise<T>): Promise<T> {
    return withDeadline(this.client, this.commandTimeoutMs, operation, command);
  }

  /** Runs one read per item through pipelines of at most `ledgerReadBatch` commands, each under the deadline. */
  private async readBatches<Item>(
    operation: string,
    items: readonly Item[],
    add: (pipeline: ReturnType<RedisClient["pipeline"]>, item: Item) => void,
  ): Promise<unknown[]> {
    const results: unknown[] = [];
    for (let start = 0; start < items.length; start += ledgerReadBatch) {
      const pipeline = this.client.pipeline();
      for (const item of items.slice(start, start + ledgerReadBatch)) add(pipeline, item);
      const replies = await this.send(operation, () => pipeline.exec());
      for (const [error, value] of replies ?? []) {
        if (error) throw error;
        results.push(value);
      }
    }
    return results;
  }
}

/** The offline queue would replay charges sent while disconnected: refuse a client that has it on. */
function checkClient(client: RedisClient): void {
  if (client.options.enableOfflineQueue !== false) {
    throw new ConfigurationError(
      "enableOfflineQueue",
      "create the ioredis client with `enableOfflineQueue: false`, so commands sent while Redis is unreachable fail at once instead of being replayed (charged twice or late) after a reconnect",
    );
  }
  if (client.options.keyPrefix?.includes("{") || client.options.keyPrefix?.includes("}")) {
    throw new ConfigurationError(
      "keyPrefix",
      "the ioredis keyPrefix must not contain `{` or `}` (it would move the hash tag)",
    );
  }
}

function positiveInteger(value: number | undefined, field: string, fallback: number, minimum: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw new ConfigurationError(field, `must be an integer of at least ${minimum}, got ${String(value)}`);
  }
  return value;
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
