import type { MigrationResult } from "../migrate";
import { latestVersion, migrations } from "./migrations";
import type { SchemaNames } from "./schema-names";
import type { SqlClient } from "./sql-client";
import { sqlState } from "./sql-client";

/**
 * Brings a schema and prefix up to the latest version in one transaction. A transaction-level advisory lock keyed
 * by the schema name serialises concurrent runs (several processes starting at once): the first one applies the
 * missing versions, the others wait, then find nothing to do. DDL is transactional in Postgres, so a failed
 * migration leaves nothing behind.
 */
export function runMigrations(sql: SqlClient, names: SchemaNames): Promise<MigrationResult> {
  const table = names.qualified("schema_migrations");
  return sql.transaction(async (query) => {
    await query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`tollgate migrate ${names.schema}`]);
    // Checked first rather than CREATE SCHEMA IF NOT EXISTS, which needs the CREATE privilege on the database even
    // when the schema exists.
    const schemas = await query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [names.schema]);
    if (schemas.length === 0) await query(`CREATE SCHEMA ${names.quotedSchema}`);
    await query(
      `CREATE TABLE IF NOT EXISTS ${table} (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`,
    );
    const done = new Set((await query(`SELECT version FROM ${table}`)).map((row) => Number(row.version)));
    const applied: number[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      for (const statement of migration.statements(names)) await query(statement);
      await query(`INSERT INTO ${table} (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
      applied.push(migration.version);
    }
    return { applied, version: Math.max(latestVersion, ...done) };
  });
}

/**
 * The schema's version, read once per store before its first operation: the store never runs DDL itself, so a
 * missing or outdated schema is reported with what to do about it.
 */
export async function checkSchemaVersion(sql: SqlClient, names: SchemaNames): Promise<void> {
  let version: number;
  try {
    const rows = await sql.query(
      `SELECT coalesce(max(version), 0) AS version FROM ${names.qualified("schema_migrations")}`,
    );
    version = Number(rows[0]?.version ?? 0);
  } catch (error) {
    // 42P01 undefined_table, 3F000 invalid_schema_name: never migrated.
    const state = sqlState(error);
    if (state === "42P01" || state === "3F000") version = 0;
    else throw error;
  }
  if (version < latestVersion) {
    throw new Error(
      `The Tollgate tables in schema "${names.schema}" (prefix "${names.tablePrefix}") are at version ${version}, and this version of @tollgate/postgres needs ${latestVersion}: run migrate() first (the store never changes the schema by itself).`,
    );
  }
}
