import { ConfigurationError } from "@tollgate/core";
import type { PGliteLike, PgPoolLike, PostgresClient, QueryResultLike } from "../postgres-client";

export type Row = Record<string, unknown>;

/** SQL text with its parameters. */
export interface Statement {
  text: string;
  values: unknown[];
}
export type RunQuery = (text: string, values?: readonly unknown[]) => Promise<Row[]>;

/** One interface over both drivers: single statements, and transactions on one connection. */
export interface SqlClient {
  query: RunQuery;
  transaction<T>(run: (query: RunQuery) => Promise<T>): Promise<T>;
}

export function toSqlClient(client: PostgresClient): SqlClient {
  if (isPgPool(client)) {
    return {
      query: async (text, values) => rowsOf(await client.query(text, values === undefined ? [] : [...values])),
      async transaction(run) {
        const connection = await client.connect();
        const query: RunQuery = async (text, values) =>
          rowsOf(await connection.query(text, values === undefined ? [] : [...values]));
        try {
          await connection.query("BEGIN");
          const result = await run(query);
          await connection.query("COMMIT");
          connection.release();
          return result;
        } catch (error) {
          // A failed ROLLBACK means the connection is broken: hand it back destroyed.
          const rolledBack = await connection.query("ROLLBACK").then(
            () => true,
            () => false,
          );
          connection.release(!rolledBack);
          throw error;
        }
      },
    };
  }
  if (isPGlite(client)) {
    return {
      query: async (text, values) => rowsOf(await client.query(text, values === undefined ? [] : [...values])),
      transaction: (run) =>
        client.transaction((transaction) =>
          run(async (text, values) => rowsOf(await transaction.query(text, values === undefined ? [] : [...values]))),
        ),
    };
  }
  throw new ConfigurationError(
    "client",
    "must be a node-postgres Pool (`new Pool(...)` from `pg`; a single `Client` cannot run the store's transactions safely) or a PGlite instance",
  );
}

/** The SQLSTATE of a driver error (both drivers set `code`), or `undefined`. */
export function sqlState(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  const code = (error as { code: unknown }).code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

function isPgPool(client: PostgresClient): client is PgPoolLike {
  const candidate = client as Partial<PgPoolLike>;
  return typeof candidate.connect === "function" && typeof candidate.totalCount === "number";
}

function isPGlite(client: PostgresClient): client is PGliteLike {
  const candidate = client as Partial<PGliteLike>;
  return typeof candidate.transaction === "function" && typeof candidate.query === "function";
}

function rowsOf(result: QueryResultLike): Row[] {
  return result.rows.filter((row): row is Row => typeof row === "object" && row !== null);
}
