import type { SchemaNames } from "./schema-names";
import { dollarQuote, serverNowMs } from "./sql-fragments";

/**
 * `<prefix>settle(reservation_key text, true_amounts bigint[], relaxed boolean) RETURNS boolean`: replaces a
 * reservation by the true amounts, once. Deleting the reservation row is the idempotency: a second settle finds
 * nothing and returns `false`.
 *
 * Only counters whose amount changes are touched, each by one UPDATE, in the `C` collation order admission locks
 * in (an UPDATE takes the row lock), so settlements and admissions never wait on each other in a cycle. A delta
 * lands in the slot or period the charge went to, and only while it still counts on the clock read once the row is
 * locked: a late refund never frees capacity in a later window, and a period whose key came back with a new end is a
 * different period. Counters never go below zero. Concurrency slots (lease rows) are released whatever their
 * amount; a missing true amount keeps the reserved one.
 */
export function settleFunctionSql(names: SchemaNames): string {
  const counters = names.qualified("counters");
  const leases = names.qualified("leases");
  const reservations = names.qualified("reservations");
  const body = `
DECLARE
  reserved_charges jsonb;
  amount_total integer := coalesce(cardinality(true_amounts), 0);
  charge jsonb;
  change record;
BEGIN
  IF relaxed THEN
    PERFORM set_config('synchronous_commit', 'off', true);
  END IF;
  DELETE FROM ${reservations} AS reservation WHERE reservation.id = reservation_key
    RETURNING reservation.charges INTO reserved_charges;
  IF NOT FOUND THEN
    RETURN false;
  END IF;

  FOR change IN
    SELECT element.value AS charge, true_amounts[element.ord] - (element.value ->> 'amount')::bigint AS delta
      FROM jsonb_array_elements(reserved_charges) WITH ORDINALITY AS element(value, ord)
     ORDER BY element.value ->> 'key' COLLATE "C"
  LOOP
    charge := change.charge;
    IF charge ->> 'kind' = 'concurrency' THEN
      DELETE FROM ${leases} AS lease
       WHERE lease.counter_key = charge ->> 'key' AND lease.reservation_id = reservation_key;
    ELSIF change.delta IS NULL OR change.delta = 0 THEN
      CONTINUE;
    ELSIF charge ->> 'kind' = 'fixed' THEN
      UPDATE ${counters} AS stored SET value = greatest(0, stored.value + change.delta)
       WHERE stored.key = charge ->> 'key'
         AND stored.ends_at = (charge ->> 'endsAt')::bigint AND stored.ends_at > ${serverNowMs};
    ELSE
      UPDATE ${counters} AS stored
         SET slot_amounts[array_position(stored.slot_indexes, (charge ->> 'slot')::bigint)] = greatest(0,
               stored.slot_amounts[array_position(stored.slot_indexes, (charge ->> 'slot')::bigint)] + change.delta)
       WHERE stored.key = charge ->> 'key'
         AND (charge ->> 'slot')::bigint = ANY (stored.slot_indexes)
         AND (charge ->> 'slot')::bigint
             >= ${serverNowMs} / (charge ->> 'slotMs')::bigint - (charge ->> 'slots')::bigint;
    END IF;
  END LOOP;
  RETURN true;
END
`;
  return `CREATE OR REPLACE FUNCTION ${names.qualified("settle")}(reservation_key text, true_amounts bigint[], relaxed boolean)
RETURNS boolean LANGUAGE plpgsql AS ${dollarQuote(body)}`;
}
