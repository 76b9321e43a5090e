import { ConfigurationError } from "@tollgate/core";

/** Postgres truncates identifiers longer than this many bytes (NAMEDATALEN − 1). */
const maximumIdentifierBytes = 63;

/** Every object migrations create, by its name without the table prefix. */
const objectNames = [
  "schema_migrations",
  "counters",
  "leases",
  "reservations",
  "blocks",
  "markers",
  "usage",
  "usage_time_idx",
  "usage_user_time_idx",
  "usage_ip_time_idx",
  "usage_key_time_idx",
  "usage_tenant_time_idx",
  "usage_call_id_idx",
  "alerts",
  "alerts_time_idx",
  "admit",
  "settle",
  "extend_lease",
  "sweep",
] as const;
type ObjectName = (typeof objectNames)[number];

export const defaultSchema = "public";
export const defaultTablePrefix = "tollgate_";

/**
 * The names of a store's tables, indexes and functions. Schema and prefix come from the user and may hold any
 * character, so every identifier is double-quoted with inner quotes doubled; `qualified` names are ready to splice
 * into SQL text, `bare` names (unquoted) serve where Postgres wants a plain name (index names, `pg_namespace`).
 */
export class SchemaNames {
  readonly schema: string;
  readonly tablePrefix: string;
  /** The quoted schema, e.g. `"public"`. */
  readonly quotedSchema: string;

  constructor(schema: string | undefined, tablePrefix: string | undefined) {
    this.schema = checkIdentifier(schema ?? defaultSchema, "schema", "", 1);
    this.tablePrefix = checkIdentifier(tablePrefix ?? defaultTablePrefix, "tablePrefix", longestObjectName(), 0);
    this.quotedSchema = quoteIdentifier(this.schema);
  }

  /** `"schema"."<prefix><name>"` */
  qualified(name: ObjectName): string {
    return `${this.quotedSchema}.${quoteIdentifier(this.bare(name))}`;
  }

  /** `"<prefix><name>"`, for names Postgres does not qualify (an index being created). */
  local(name: ObjectName): string {
    return quoteIdentifier(this.bare(name));
  }

  bare(name: ObjectName): string {
    return `${this.tablePrefix}${name}`;
  }
}

/** Double-quotes an identifier, doubling inner quotes, so any name is taken literally. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function longestObjectName(): string {
  return objectNames.reduce((longest, name) => (name.length > longest.length ? name : longest), "");
}

function checkIdentifier(value: unknown, field: string, suffix: string, minimumLength: number): string {
  if (typeof value !== "string" || value.length < minimumLength) {
    throw new ConfigurationError(field, minimumLength > 0 ? "must be a non-empty string" : "must be a string");
  }
  if (value.includes("\u0000")) throw new ConfigurationError(field, "must not contain a NUL character");
  if (utf8Length(value + suffix) > maximumIdentifierBytes) {
    const room = maximumIdentifierBytes - utf8Length(suffix);
    throw new ConfigurationError(
      field,
      `is too long: Postgres identifiers have at most ${maximumIdentifierBytes} bytes, which leaves ${room} bytes for the ${field}`,
    );
  }
  return value;
}

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}
