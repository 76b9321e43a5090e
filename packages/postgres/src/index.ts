export type { MigrationResult, PostgresSchemaOptions } from "./migrate";
export { migrate } from "./migrate";
export type { PGliteLike, PgPoolConnection, PgPoolLike, PostgresClient, QueryResultLike } from "./postgres-client";
export type { PostgresStore, PostgresStoreOptions, SweepResult } from "./postgres-store";
export { createPostgresStore } from "./postgres-store";
