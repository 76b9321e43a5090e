import { runMigrations } from "./internal/migration-runner";
import { SchemaNames } from "./internal/schema-names";
import { toSqlClient } from "./internal/sql-client";
import type { PostgresClient } from "./postgres-client";

/** What `migrate()` did. */
export interface MigrationResult {
  /** Versions applied by this call, in order; empty when the schema was already up to date. */
  applied: number[];
  /** The schema's version afterwards. */
  version: number;
}

/** Where a store's tables live. Both `migrate()` and `createPostgresStore()` take these. */
export interface PostgresSchemaOptions {
  /** Schema of the tables and functions; created by `migrate()` if missing. Any name (it is quoted). Default `"public"`. */
  schema?: string;
  /** Starts the name of every table, index and function, so several stores can share a schema. Default `"tollgate_"`. */
  tablePrefix?: string;
}

/**
 * Creates or upgrades the store's tables and functions. Versioned (a `<prefix>schema_migrations` table), idempotent,
 * transactional, and safe to run from several processes at once (they serialise on an advisory lock). Run it at
 * deploy or at start-up: the store itself never runs DDL.
 */
export function migrate(client: PostgresClient, options: PostgresSchemaOptions = {}): Promise<MigrationResult> {
  const names = new SchemaNames(options.schema, options.tablePrefix);
  return runMigrations(toSqlClient(client), names);
}
