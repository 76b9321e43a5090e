import type { SchemaNames } from "./schema-names";
import { dollarQuote, serverNowMs } from "./sql-fragments";

/**
 * `<prefix>extend_lease(reservation_key text, lease_ms bigint, grace_ms bigint, relaxed boolean) RETURNS boolean`:
 * moves the lease of a reservation still in flight, and of its concurrency slots, to now + `lease_ms`. `false` when
 * the reservation is unknown (settled, swept, a dry run) or its lease has already expired.
 */
export function extendLeaseFunctionSql(names: SchemaNames): string {
  const leases = names.qualified("leases");
  const reservations = names.qualified("reservations");
  const body = `
DECLARE
  clock_ms bigint := ${serverNowMs};
  reserved_charges jsonb;
  lease_keys text[] := '{}';
BEGIN
  IF relaxed THEN
    PERFORM set_config('synchronous_commit', 'off', true);
  END IF;
  UPDATE ${reservations} AS reservation
     SET lease_expires_at = clock_ms + lease_ms, expires_at = clock_ms + lease_ms + grace_ms
   WHERE reservation.id = reservation_key AND reservation.lease_expires_at > clock_ms
  RETURNING reservation.charges INTO reserved_charges;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  FOR charge_index IN 0 .. jsonb_array_length(reserved_charges) - 1 LOOP
    IF reserved_charges -> charge_index ->> 'kind' = 'concurrency' THEN
      lease_keys := lease_keys || (reserved_charges -> charge_index ->> 'key');
    END IF;
  END LOOP;
  IF cardinality(lease_keys) > 0 THEN
    UPDATE ${leases} AS lease SET expires_at = clock_ms + lease_ms
     WHERE lease.counter_key = ANY (lease_keys) AND lease.reservation_id = reservation_key;
  END IF;
  RETURN true;
END
`;
  return `CREATE OR REPLACE FUNCTION ${names.qualified("extend_lease")}(reservation_key text, lease_ms bigint, grace_ms bigint, relaxed boolean)
RETURNS boolean LANGUAGE plpgsql AS ${dollarQuote(body)}`;
}
