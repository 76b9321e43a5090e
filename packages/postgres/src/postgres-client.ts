/**
 * The client types the store accepts, described by the methods it calls, so that neither driver has to be installed
 * for the types to check: a node-postgres `Pool` and a PGlite instance both fit.
 */

/** What the store reads from a query result: rows as plain objects. */
export interface QueryResultLike {
  rows: unknown[];
}

/** A connection checked out of a pg `Pool`. */
export interface PgPoolConnection {
  query(text: string, values?: unknown[]): Promise<QueryResultLike>;
  release(error?: Error | boolean): void;
}

/** The part of a node-postgres `Pool` the store uses. */
export interface PgPoolLike {
  query(text: string, values?: unknown[]): Promise<QueryResultLike>;
  connect(): Promise<PgPoolConnection>;
  readonly totalCount: number;
}

/** The part of a PGlite instance (or a PGlite worker) the store uses. */
export interface PGliteLike {
  query(text: string, params?: unknown[]): Promise<QueryResultLike>;
  transaction<T>(
    callback: (transaction: { query(text: string, params?: unknown[]): Promise<QueryResultLike> }) => Promise<T>,
  ): Promise<T>;
}

/** A node-postgres `Pool` or a PGlite instance. */
export type PostgresClient = PgPoolLike | PGliteLike;
