import {
  type AdmitRequest,
  type AdmitResult,
  type AlertLogEntry,
  type AlertLogQuery,
  type BlockEntry,
  defaultAlertLogMaxEntries,
  defaultAlertLogRetentionMs,
  type SettleRequest,
  type TollgateStore,
  type UsageQuery,
  type UsageRecord,
  type UsageRow,
} from "@tollgate/core";
import { admitParameters } from "./internal/admit-function";
import { admitValues, parseAdmitReply } from "./internal/admit-request";
import { type AlertLogBounds, listAlertsStatement, parseAlertRows, recordAlertStatement } from "./internal/alert-log";
import { blockStatement, listBlockedStatement, parseBlockEntry, unblockStatement } from "./internal/block-list";
import { checkSchemaVersion, runMigrations } from "./internal/migration-runner";
import { nonNegativeInteger, positiveMilliseconds, replyNumber } from "./internal/numbers";
import { SchemaNames } from "./internal/schema-names";
import { type SqlClient, type Statement, sqlState, toSqlClient } from "./internal/sql-client";
import { serverNowMs } from "./internal/sql-fragments";
import {
  defaultLedgerRetentionMs,
  defaultSettleGraceMs,
  defaultSweepIntervalMs,
  durabilityOption,
  integerOption,
} from "./internal/store-options";
import { parseUsageRows, recordStatement, usageQueryStatement } from "./internal/usage-ledger";
import type { MigrationResult, PostgresSchemaOptions } from "./migrate";
import type { PostgresClient } from "./postgres-client";

export interface PostgresStoreOptions extends PostgresSchemaOptions {
  /**
   * `"durable"` (default): every admission, settlement and lease extension waits for its WAL flush, like any
   * commit. `"relaxed"`: those three commit with `synchronous_commit = off` (set locally to their transaction), so
   * they do not wait for the flush; a server crash can lose the last few hundred milliseconds of counter changes.
   * Ledger records, blocks and once-markers stay durable either way.
   */
  durability?: "durable" | "relaxed";
  /** How long a reservation stays settleable after its lease expired, in ms. Default one hour. */
  settleGraceMs?: number;
  /** How long ledger rows are kept, in ms after their call; `Infinity` keeps them. Default 35 days. */
  ledgerRetentionMs?: number;
  /** Most rows the alert log keeps; recording more deletes the oldest recorded. Default 10,000. */
  alertLogMaxEntries?: number;
  /** Alert log rows this much older than the one being recorded are deleted, in ms. Default 400 days. */
  alertLogRetentionMs?: number;
  /** How often this store deletes expired rows, in ms; 0 turns it off (then call `sweep()` yourself). Default 60000. */
  sweepIntervalMs?: number;
  /** Receives the errors of background sweeps, which are otherwise ignored (the next one tries again). */
  onSweepError?: (error: Error) => void;
}

/** Rows a sweep deleted, per table. `skipped` when another process's sweep of the same store was running. */
export interface SweepResult {
  counters: number;
  leases: number;
  reservations: number;
  markers: number;
  blocks: number;
  usage: number;
  skipped: boolean;
}

/** A `TollgateStore` on Postgres, plus its schema and housekeeping. */
export interface PostgresStore extends TollgateStore {
  /** Same as `migrate(client, options)`: creates or upgrades this store's tables and functions. */
  migrate(): Promise<MigrationResult>;
  /** Deletes expired rows now (the store also does it every `sweepIntervalMs`). */
  sweep(): Promise<SweepResult>;
}

/** Rows deleted per table per sweep round trip; a sweep repeats rounds until a round deletes fewer. */
const sweepBatchSize = 1_000;
const sweepMaximumRounds = 100;
/** Attempts of an operation that hit a serialization failure (SQLSTATE 40001) before it reports it. */
const maximumAttempts = 5;

/**
 * A `TollgateStore` on a node-postgres `Pool` or a PGlite instance. Each admission is one call of a PL/pgSQL
 * function (one round trip) that locks the call's counter rows in key order, checks every charge and applies all
 * or none, on the server's clock. Run `migrate()` once before use: the store never changes the schema. The store
 * does not own the client: `close()` leaves it open.
 */
export function createPostgresStore(client: PostgresClient, options: PostgresStoreOptions = {}): PostgresStore {
  return new PostgresTollgateStore(toSqlClient(client), options);
}

class PostgresTollgateStore implements PostgresStore {
  private readonly names: SchemaNames;
  private readonly relaxed: boolean;
  private readonly settleGraceMs: number;
  private readonly ledgerRetentionMs: number;
  private readonly alertLogBounds: AlertLogBounds;
  private readonly onSweepError: ((error: Error) => void) | undefined;
  private readonly sweepTimer: ReturnType<typeof setInterval> | undefined;
  private readonly statements: {
    admit: string;
    settle: string;
    extendLease: string;
    sweep: string;
    markOnce: string;
  };
  private schemaChecked: Promise<void> | undefined;
  private sweepInFlight: Promise<SweepResult> | undefined;

  constructor(
    private readonly sql: SqlClient,
    options: PostgresStoreOptions,
  ) {
    this.names = new SchemaNames(options.schema, options.tablePrefix);
    this.relaxed = durabilityOption(options.durability) === "relaxed";
    this.settleGraceMs = integerOption(options.settleGraceMs, "settleGraceMs", defaultSettleGraceMs, 0);
    this.ledgerRetentionMs = integerOption(
      options.ledgerRetentionMs,
      "ledgerRetentionMs",
      defaultLedgerRetentionMs,
      1,
      true,
    );
    this.alertLogBounds = {
      maxEntries: integerOption(options.alertLogMaxEntries, "alertLogMaxEntries", defaultAlertLogMaxEntries, 1),
      retentionMs: integerOption(options.alertLogRetentionMs, "alertLogRetentionMs", defaultAlertLogRetentionMs, 1),
    };
    const sweepIntervalMs = integerOption(options.sweepIntervalMs, "sweepIntervalMs", defaultSweepIntervalMs, 0);
    this.onSweepError = options.onSweepError;
    const names = this.names;
    this.statements = {
      admit: `SELECT ${names.qualified("admit")}(${admitParameters
        .map((parameter, index) => `$${index + 1}::${parameter.split(" ")[1]}`)
        .join(", ")}) AS reply`,
      settle: `SELECT ${names.qualified("settle")}($1::text, $2::bigint[], $3::boolean) AS settled`,
      extendLease: `SELECT ${names.qualified("extend_lease")}($1::text, $2::bigint, $3::bigint, $4::boolean) AS extended`,
      sweep: `SELECT ${names.qualified("sweep")}($1::integer, $2::bigint) AS swept`,
      markOnce: `WITH clock AS (SELECT ${serverNowMs} AS now_ms)
        INSERT INTO ${names.qualified("markers")} AS marker (key, expires_at)
        SELECT $1, clock.now_ms + $2::bigint FROM clock
        ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at
          WHERE marker.expires_at <= excluded.expires_at - $2::bigint
        RETURNING 1 AS marked`,
    };
    if (sweepIntervalMs > 0) {
      this.sweepTimer = setInterval(() => this.sweepInBackground(), sweepIntervalMs);
      this.sweepTimer.unref?.();
    }
  }

  async admit(request: AdmitRequest): Promise<AdmitResult> {
    const rows = await this.run([this.statements.admit, admitValues(request, this.settleGraceMs, this.relaxed)]);
    return parseAdmitReply(rows[0]?.reply);
  }

  async settle(request: SettleRequest): Promise<void> {
    const amounts = request.amounts.map((amount, index) => nonNegativeInteger(amount, `amounts[${index}]`));
    await this.run([this.statements.settle, [request.reservationId, amounts, this.relaxed]]);
  }

  async extendLease(reservationId: string, leaseMs: number): Promise<boolean> {
    const lease = positiveMilliseconds(leaseMs, "leaseMs");
    const rows = await this.run([
      this.statements.extendLease,
      [reservationId, lease, this.settleGraceMs, this.relaxed],
    ]);
    return rows[0]?.extended === true;
  }

  async record(record: UsageRecord): Promise<void> {
    await this.run(recordStatement(this.names, record));
  }

  async queryUsage(query: UsageQuery): Promise<UsageRow[]> {
    return parseUsageRows(await this.run(usageQueryStatement(this.names, query)), query);
  }

  async block(entry: BlockEntry): Promise<void> {
    await this.run(blockStatement(this.names, entry));
  }

  async unblock(key: string): Promise<void> {
    await this.run(unblockStatement(this.names, key));
  }

  async listBlocked(): Promise<BlockEntry[]> {
    return (await this.run(listBlockedStatement(this.names))).map(parseBlockEntry);
  }

  async markOnce(key: string, ttlMs: number): Promise<boolean> {
    const ttl = positiveMilliseconds(ttlMs, "ttlMs");
    return (await this.run([this.statements.markOnce, [key, ttl]])).length === 1;
  }

  /** One statement: the insert, and the deletion of rows past the log's bounds. */
  async recordAlert(entry: AlertLogEntry): Promise<void> {
    await this.run(recordAlertStatement(this.names, entry, this.alertLogBounds));
  }

  async listAlerts(query: AlertLogQuery = {}): Promise<AlertLogEntry[]> {
    return parseAlertRows(await this.run(listAlertsStatement(this.names, query)));
  }

  migrate(): Promise<MigrationResult> {
    this.schemaChecked = undefined;
    return runMigrations(this.sql, this.names);
  }

  sweep(): Promise<SweepResult> {
    if (this.sweepInFlight !== undefined) return this.sweepInFlight;
    const sweeping = this.sweepRounds().finally(() => {
      this.sweepInFlight = undefined;
    });
    this.sweepInFlight = sweeping;
    return sweeping;
  }

  /** Stops the background sweep and waits for one in flight. The client stays open: it belongs to the caller. */
  async close(): Promise<void> {
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    await this.sweepInFlight?.catch(() => undefined);
  }

  private async sweepRounds(): Promise<SweepResult> {
    const total: SweepResult = {
      counters: 0,
      leases: 0,
      reservations: 0,
      markers: 0,
      blocks: 0,
      usage: 0,
      skipped: false,
    };
    const retention = Number.isFinite(this.ledgerRetentionMs) ? this.ledgerRetentionMs : null;
    for (let round = 0; round < sweepMaximumRounds; round++) {
      const rows = await this.run([this.statements.sweep, [sweepBatchSize, retention]]);
      const swept = rows[0]?.swept;
      if (typeof swept !== "object" || swept === null) return { ...total, skipped: true };
      const counts = swept as Record<string, unknown>;
      let full = false;
      for (const table of ["counters", "leases", "reservations", "markers", "blocks", "usage"] as const) {
        const deleted = replyNumber(counts[table], `swept ${table}`);
        total[table] += deleted;
        if (deleted >= sweepBatchSize) full = true;
      }
      if (!full) break;
    }
    return total;
  }

  private sweepInBackground(): void {
    this.sweep().catch((error: unknown) => {
      try {
        this.onSweepError?.(error instanceof Error ? error : new Error(String(error)));
      } catch {
        // A handler that throws must not become an unhandled rejection.
      }
    });
  }

  /**
   * Runs one statement (one round trip) after the one-time schema check. A serialization failure (SQLSTATE 40001:
   * a counter swept mid-admission, or a session running above READ COMMITTED) rolled everything back, so the
   * statement is sent again, up to `maximumAttempts` times. Deadlocks are not retried: the lock order rules them out,
   * and one would be a bug worth seeing.
   */
  private async run(statement: Statement | [string, unknown[]]): Promise<Record<string, unknown>[]> {
    const [text, values] = Array.isArray(statement) ? statement : [statement.text, statement.values];
    await this.ensureSchema();
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.sql.query(text, values);
      } catch (error) {
        const state = sqlState(error);
        if (state === "40001" && attempt < maximumAttempts) continue;
        if (state === "42883" || state === "42P01" || state === "3F000") {
          // Tables or functions gone since the check (a dropped schema): check again next time.
          this.schemaChecked = undefined;
          throw new Error(
            `The Tollgate tables or functions are missing in schema "${this.names.schema}" (prefix "${this.names.tablePrefix}"): run migrate() first.`,
            { cause: error },
          );
        }
        throw error;
      }
    }
  }

  private ensureSchema(): Promise<void> {
    if (this.schemaChecked === undefined) {
      const checking = checkSchemaVersion(this.sql, this.names);
      this.schemaChecked = checking;
      checking.catch(() => {
        if (this.schemaChecked === checking) this.schemaChecked = undefined;
      });
    }
    return this.schemaChecked;
  }
}
