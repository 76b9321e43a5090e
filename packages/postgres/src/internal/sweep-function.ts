import type { SchemaNames } from "./schema-names";
import { dollarQuote, quoteLiteral, serverNowMs } from "./sql-fragments";

/**
 * `<prefix>sweep(batch_size integer, usage_retention_ms bigint) RETURNS jsonb`: deletes up to `batch_size` expired
 * rows of each table (counters, leases, reservations past their grace, once-markers, ended blocks, and ledger rows
 * older than `usage_retention_ms`, unless it is null) and returns how many of each it deleted, or null when another
 * sweep of the same store is running (a transaction-level advisory try-lock: sweeps never queue up).
 *
 * Rows are picked `FOR UPDATE SKIP LOCKED`, so a sweep never waits for an admission, and the expiry is checked
 * again on the row version being deleted, so a counter an admission has just renewed is kept.
 */
export function sweepFunctionSql(names: SchemaNames): string {
  const counters = names.qualified("counters");
  const leases = names.qualified("leases");
  const reservations = names.qualified("reservations");
  const markers = names.qualified("markers");
  const blocks = names.qualified("blocks");
  const usage = names.qualified("usage");
  const lockName = quoteLiteral(`tollgate sweep ${counters}`);
  const body = `
DECLARE
  clock_ms bigint := ${serverNowMs};
  counter_rows integer;
  lease_rows integer;
  reservation_rows integer;
  marker_rows integer;
  block_rows integer;
  usage_rows integer := 0;
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtextextended(${lockName}, 0)) THEN
    RETURN NULL;
  END IF;

  DELETE FROM ${counters} AS counter
   WHERE counter.key = ANY (ARRAY(
           SELECT candidate.key FROM ${counters} AS candidate WHERE candidate.expires_at <= clock_ms
            LIMIT batch_size FOR UPDATE SKIP LOCKED))
     AND counter.expires_at <= clock_ms;
  GET DIAGNOSTICS counter_rows = ROW_COUNT;

  DELETE FROM ${leases} AS lease
   WHERE (lease.counter_key, lease.reservation_id) IN (
           SELECT candidate.counter_key, candidate.reservation_id FROM ${leases} AS candidate
            WHERE candidate.expires_at <= clock_ms LIMIT batch_size FOR UPDATE SKIP LOCKED)
     AND lease.expires_at <= clock_ms;
  GET DIAGNOSTICS lease_rows = ROW_COUNT;

  DELETE FROM ${reservations} AS reservation
   WHERE reservation.id = ANY (ARRAY(
           SELECT candidate.id FROM ${reservations} AS candidate WHERE candidate.expires_at <= clock_ms
            LIMIT batch_size FOR UPDATE SKIP LOCKED))
     AND reservation.expires_at <= clock_ms;
  GET DIAGNOSTICS reservation_rows = ROW_COUNT;

  DELETE FROM ${markers} AS marker
   WHERE marker.key = ANY (ARRAY(
           SELECT candidate.key FROM ${markers} AS candidate WHERE candidate.expires_at <= clock_ms
            LIMIT batch_size FOR UPDATE SKIP LOCKED))
     AND marker.expires_at <= clock_ms;
  GET DIAGNOSTICS marker_rows = ROW_COUNT;

  DELETE FROM ${blocks} AS entry
   WHERE entry.key = ANY (ARRAY(
           SELECT candidate.key FROM ${blocks} AS candidate WHERE candidate.until <= clock_ms
            LIMIT batch_size FOR UPDATE SKIP LOCKED))
     AND entry.until <= clock_ms;
  GET DIAGNOSTICS block_rows = ROW_COUNT;

  IF usage_retention_ms IS NOT NULL THEN
    DELETE FROM ${usage} AS ledger_row
     WHERE ledger_row.id = ANY (ARRAY(
             SELECT candidate.id FROM ${usage} AS candidate
              WHERE candidate.time < to_timestamp((clock_ms - usage_retention_ms) / 1000.0)
              ORDER BY candidate.time LIMIT batch_size));
    GET DIAGNOSTICS usage_rows = ROW_COUNT;
  END IF;

  RETURN jsonb_build_object('counters', counter_rows, 'leases', lease_rows, 'reservations', reservation_rows,
    'markers', marker_rows, 'blocks', block_rows, 'usage', usage_rows);
END
`;
  return `CREATE OR REPLACE FUNCTION ${names.qualified("sweep")}(batch_size integer, usage_retention_ms bigint)
RETURNS jsonb LANGUAGE plpgsql AS ${dollarQuote(body)}`;
}
