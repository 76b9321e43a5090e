import { admitFunctionSql } from "./admit-function";
import { alertLogTableSql } from "./alert-log";
import { extendLeaseFunctionSql } from "./extend-lease-function";
import type { SchemaNames } from "./schema-names";
import { settleFunctionSql } from "./settle-function";
import { sweepFunctionSql } from "./sweep-function";
import { usageCallIdSql } from "./usage-ledger";

export interface Migration {
  version: number;
  name: string;
  /** Statements run in order, in the migration's transaction. */
  statements(names: SchemaNames): string[];
}

/**
 * The schema, as an append-only list: a released migration is never edited, a change is a new version. Every
 * version runs once per schema and prefix, recorded in `<prefix>schema_migrations`.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: "counters, leases, reservations, block list, once-markers, usage ledger, and their functions",
    statements: (names) => [
      // Counter rows change on every admission: no index but the key, and room on each page, keep those updates
      // HOT. The C collation gives the fixed lock order. The sweep scans expires_at sequentially.
      `CREATE TABLE ${names.qualified("counters")} (
        key text COLLATE "C" PRIMARY KEY,
        value bigint NOT NULL DEFAULT 0,
        ends_at bigint NOT NULL DEFAULT 0,
        slot_ms bigint NOT NULL DEFAULT 0,
        slot_indexes bigint[] NOT NULL DEFAULT '{}',
        slot_amounts bigint[] NOT NULL DEFAULT '{}',
        expires_at bigint NOT NULL DEFAULT 0
      ) WITH (fillfactor = 70)`,
      `CREATE TABLE ${names.qualified("leases")} (
        counter_key text COLLATE "C" NOT NULL,
        reservation_id text NOT NULL,
        expires_at bigint NOT NULL,
        PRIMARY KEY (counter_key, reservation_id)
      )`,
      `CREATE TABLE ${names.qualified("reservations")} (
        id text PRIMARY KEY,
        lease_expires_at bigint NOT NULL,
        expires_at bigint NOT NULL,
        charges jsonb NOT NULL
      )`,
      `CREATE TABLE ${names.qualified("blocks")} (
        key text PRIMARY KEY,
        reason text,
        until double precision,
        created_at double precision NOT NULL
      )`,
      `CREATE TABLE ${names.qualified("markers")} (
        key text PRIMARY KEY,
        expires_at bigint NOT NULL
      )`,
      `CREATE TABLE ${names.qualified("usage")} (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        time timestamptz NOT NULL,
        provider text NOT NULL,
        model text NOT NULL,
        operation text NOT NULL,
        subject_user text,
        subject_ip text,
        subject_key text,
        subject_tenant text,
        subject_session text,
        input_tokens bigint NOT NULL,
        cached_input_tokens bigint NOT NULL,
        cache_write_input_tokens bigint NOT NULL,
        output_tokens bigint NOT NULL,
        reasoning_tokens bigint NOT NULL,
        cost_nano_usd bigint NOT NULL,
        estimated boolean NOT NULL,
        status text NOT NULL CHECK (status IN ('ok', 'aborted', 'error')),
        latency_ms bigint NOT NULL
      )`,
      `CREATE INDEX ${names.local("usage_time_idx")} ON ${names.qualified("usage")} (time)`,
      ...(["user", "ip", "key", "tenant"] as const).map(
        (scope) =>
          `CREATE INDEX ${names.local(`usage_${scope}_time_idx`)} ON ${names.qualified("usage")} (subject_${scope}, time) WHERE subject_${scope} IS NOT NULL`,
      ),
      admitFunctionSql(names),
      settleFunctionSql(names),
      extendLeaseFunctionSql(names),
      sweepFunctionSql(names),
    ],
  },
  {
    version: 2,
    name: "alert log",
    statements: (names) => alertLogTableSql(names),
  },
  {
    version: 3,
    name: "usage rows carry their call id, unique, so a retried ledger write counts once",
    statements: (names) => usageCallIdSql(names),
  },
];

export const latestVersion = Math.max(...migrations.map((migration) => migration.version));
