import type { SchemaNames } from "./schema-names";
import { dollarQuote, serverNowMs } from "./sql-fragments";

/** The admit function's parameters, in call order (the store sends them as `$1…$15`). */
export const admitParameters = [
  "reservation_key text",
  "lease_ms bigint",
  "grace_ms bigint",
  "is_dry_run boolean",
  "relaxed boolean",
  "block_keys text[]",
  "counter_keys text[]",
  "charge_counters integer[]",
  "charge_kinds text[]",
  "charge_amounts bigint[]",
  "charge_capacities numeric[]",
  "charge_enforced boolean[]",
  "charge_slot_ms bigint[]",
  "charge_slots bigint[]",
  "charge_ends_at bigint[]",
] as const;

/**
 * `<prefix>admit(…) RETURNS jsonb`: the whole admission in one function call, so one round trip. `counter_keys` are
 * the call's distinct counter rows in lock order (ascending code points, which is the `C` collation's order);
 * charges arrive as parallel arrays in request order, each naming its counter by position (`capacity` null: no limit).
 *
 * 1. Block list: the first of `block_keys` (in request order) with an active entry refuses the call.
 * 2. Check on a snapshot, without locks: a call refused here is refused without a write, a lock or a commit flush,
 *    so a flood of refused calls stays cheap. Dry runs stop here.
 * 3. Lock every counter row of the call, one after the other in lock order: creating a missing one with
 *    `INSERT … ON CONFLICT DO NOTHING`, then `SELECT … FOR UPDATE`. Every admission and settlement takes its locks
 *    in that one order, so none waits on another in a cycle. A row swept between the two statements raises
 *    `serialization_failure`, and the client retries the whole call (nothing was written).
 * 4. Read the clock again and check every charge again on the locked rows; only if all enforced ones fit, apply all
 *    of them and write the reservation.
 *
 * Rows are read and written by key, one short statement each: measured, that beats set-based statements over the
 * arrays (`= ANY`, `jsonb_to_recordset`, CTEs) for the handful of counters a call has.
 *
 * Counter rows: sliding windows keep parallel arrays of slot indexes (ascending) and amounts, a slot counting while
 * index >= ⌊now / slotMs⌋ − slots; fixed windows keep a value and the end of its period; concurrency counters are
 * rows of the leases table (one per reservation holding a slot), and their counter row is only the lock and the
 * sweep deadline. `expires_at` is when nothing in a counter row counts any more; the sweep deletes it after that.
 */
export function admitFunctionSql(names: SchemaNames): string {
  const counters = names.qualified("counters");
  const leases = names.qualified("leases");
  const reservations = names.qualified("reservations");
  const blocks = names.qualified("blocks");
  const body = `
DECLARE
  charge_total integer := coalesce(cardinality(charge_kinds), 0);
  counter_total integer := coalesce(cardinality(counter_keys), 0);
  counter_present boolean[] := '{}';
  clock_ms bigint := ${serverNowMs};
  lease_end bigint;
  blocked record;
  stored_rows ${counters}[];
  counter ${counters};
  slot_first bigint;
  slot_now bigint;
  next_indexes bigint[];
  next_amounts bigint[];
  slot_placed boolean;
  usage_before numeric;
  left_over numeric;
  retry_ms bigint;
  used_after jsonb;
  shadow_indexes jsonb;
  reserved_charges jsonb := '[]';
BEGIN
  IF relaxed THEN
    -- Local to this transaction: its commit does not wait for the WAL flush.
    PERFORM set_config('synchronous_commit', 'off', true);
  END IF;

  FOR block_index IN 1 .. coalesce(cardinality(block_keys), 0) LOOP
    SELECT entry.key, entry.reason, entry.until, entry.created_at INTO blocked
      FROM ${blocks} AS entry
     WHERE entry.key = block_keys[block_index] AND (entry.until IS NULL OR entry.until > clock_ms);
    IF FOUND THEN
      RETURN jsonb_build_object('admitted', false, 'now', clock_ms, 'blocked', jsonb_build_object(
        'key', blocked.key, 'reason', blocked.reason, 'until', blocked.until, 'createdAt', blocked.created_at));
    END IF;
  END LOOP;

  FOR check_phase IN 1 .. 2 LOOP
    IF check_phase = 2 THEN
      EXIT WHEN is_dry_run OR counter_total = 0;
    END IF;
    FOR counter_index IN 1 .. counter_total LOOP
      IF check_phase = 1 THEN
        SELECT stored.* INTO counter FROM ${counters} AS stored WHERE stored.key = counter_keys[counter_index];
        counter_present[counter_index] := FOUND;
      ELSE
        IF NOT counter_present[counter_index] THEN
          INSERT INTO ${counters} AS stored (key) VALUES (counter_keys[counter_index]) ON CONFLICT (key) DO NOTHING;
        END IF;
        SELECT stored.* INTO counter FROM ${counters} AS stored WHERE stored.key = counter_keys[counter_index]
           FOR UPDATE;
        IF NOT FOUND THEN
          RAISE EXCEPTION USING ERRCODE = 'serialization_failure',
            MESSAGE = 'tollgate: a counter row was swept while this admission locked it; retry';
        END IF;
      END IF;
      stored_rows[counter_index] := counter;
    END LOOP;
    IF check_phase = 2 THEN
      clock_ms := ${serverNowMs};
    END IF;

    used_after := '[]';
    shadow_indexes := '[]';
    FOR charge_index IN 1 .. charge_total LOOP
      counter := stored_rows[charge_counters[charge_index]];
      usage_before := 0;
      IF charge_kinds[charge_index] = 'sliding' THEN
        slot_first := clock_ms / charge_slot_ms[charge_index] - charge_slots[charge_index];
        FOR slot_position IN 1 .. coalesce(cardinality(counter.slot_indexes), 0) LOOP
          IF counter.slot_indexes[slot_position] >= slot_first THEN
            usage_before := usage_before + counter.slot_amounts[slot_position];
          END IF;
        END LOOP;
      ELSIF charge_kinds[charge_index] = 'fixed' THEN
        IF counter.ends_at > clock_ms THEN usage_before := counter.value; END IF;
      ELSE
        SELECT count(*) INTO usage_before FROM ${leases} AS lease
         WHERE lease.counter_key = counter_keys[charge_counters[charge_index]] AND lease.expires_at > clock_ms;
      END IF;
      used_after := used_after || to_jsonb(usage_before + charge_amounts[charge_index]);

      CONTINUE WHEN charge_capacities[charge_index] IS NULL
        OR usage_before + charge_amounts[charge_index] <= charge_capacities[charge_index];
      IF NOT charge_enforced[charge_index] THEN
        shadow_indexes := shadow_indexes || to_jsonb(charge_index - 1);
        CONTINUE;
      END IF;
      retry_ms := NULL;
      IF charge_amounts[charge_index] <= charge_capacities[charge_index] THEN
        IF charge_kinds[charge_index] = 'fixed' THEN
          retry_ms := charge_ends_at[charge_index] - clock_ms;
        ELSIF charge_kinds[charge_index] = 'sliding' THEN
          -- When enough of the oldest slots have left the window for this charge to fit.
          left_over := usage_before;
          FOR slot_position IN 1 .. coalesce(cardinality(counter.slot_indexes), 0) LOOP
            CONTINUE WHEN counter.slot_indexes[slot_position] < slot_first;
            left_over := left_over - counter.slot_amounts[slot_position];
            IF left_over + charge_amounts[charge_index] <= charge_capacities[charge_index] THEN
              retry_ms := (counter.slot_indexes[slot_position] + charge_slots[charge_index] + 1)
                * charge_slot_ms[charge_index] - clock_ms;
              EXIT;
            END IF;
          END LOOP;
        ELSE
          SELECT min(lease.expires_at) - clock_ms INTO retry_ms FROM ${leases} AS lease
           WHERE lease.counter_key = counter_keys[charge_counters[charge_index]] AND lease.expires_at > clock_ms;
        END IF;
      END IF;
      RETURN jsonb_build_object('admitted', false, 'now', clock_ms, 'chargeIndex', charge_index - 1,
        'used', usage_before, 'retryAfterMs', retry_ms);
    END LOOP;
  END LOOP;

  IF is_dry_run THEN
    RETURN jsonb_build_object('admitted', true, 'now', clock_ms, 'shadowRefusals', shadow_indexes,
      'usedAfter', used_after);
  END IF;

  lease_end := clock_ms + lease_ms;
  FOR charge_index IN 1 .. charge_total LOOP
    counter := stored_rows[charge_counters[charge_index]];
    IF charge_kinds[charge_index] = 'sliding' THEN
      -- Drop the slots that left the window and add the charge to the current one.
      slot_now := clock_ms / charge_slot_ms[charge_index];
      slot_first := slot_now - charge_slots[charge_index];
      next_indexes := '{}';
      next_amounts := '{}';
      slot_placed := false;
      FOR slot_position IN 1 .. coalesce(cardinality(counter.slot_indexes), 0) LOOP
        CONTINUE WHEN counter.slot_indexes[slot_position] < slot_first;
        next_indexes := next_indexes || counter.slot_indexes[slot_position];
        IF counter.slot_indexes[slot_position] = slot_now THEN
          next_amounts := next_amounts || (counter.slot_amounts[slot_position] + charge_amounts[charge_index]);
          slot_placed := true;
        ELSE
          next_amounts := next_amounts || counter.slot_amounts[slot_position];
        END IF;
      END LOOP;
      IF NOT slot_placed THEN
        next_indexes := next_indexes || slot_now;
        next_amounts := next_amounts || charge_amounts[charge_index];
        IF cardinality(next_indexes) > 1 AND next_indexes[cardinality(next_indexes) - 1] > slot_now THEN
          -- The server clock stepped back: keep the slots in ascending order.
          SELECT array_agg(slot.slot_index ORDER BY slot.slot_index), array_agg(slot.slot_amount ORDER BY slot.slot_index)
            INTO next_indexes, next_amounts FROM unnest(next_indexes, next_amounts) AS slot(slot_index, slot_amount);
        END IF;
      END IF;
      counter.slot_ms := charge_slot_ms[charge_index];
      counter.slot_indexes := next_indexes;
      counter.slot_amounts := next_amounts;
      counter.expires_at := greatest(counter.expires_at,
        (next_indexes[cardinality(next_indexes)] + charge_slots[charge_index] + 1) * charge_slot_ms[charge_index]);
      UPDATE ${counters} AS stored
         SET slot_ms = counter.slot_ms, slot_indexes = counter.slot_indexes, slot_amounts = counter.slot_amounts,
             expires_at = counter.expires_at
       WHERE stored.key = counter.key;
      reserved_charges := reserved_charges || jsonb_build_object('key', counter.key, 'kind', 'sliding',
        'amount', charge_amounts[charge_index], 'slot', slot_now, 'slotMs', charge_slot_ms[charge_index],
        'slots', charge_slots[charge_index]);
    ELSIF charge_kinds[charge_index] = 'fixed' THEN
      -- A live period keeps its end; an ended one starts again with this charge's period. A charge whose own period
      -- has already ended counts nowhere.
      IF charge_ends_at[charge_index] > clock_ms THEN
        IF counter.ends_at > clock_ms THEN
          counter.value := counter.value + charge_amounts[charge_index];
        ELSE
          counter.value := charge_amounts[charge_index];
          counter.ends_at := charge_ends_at[charge_index];
        END IF;
        counter.expires_at := counter.ends_at;
        UPDATE ${counters} AS stored
           SET value = counter.value, ends_at = counter.ends_at, expires_at = counter.expires_at
         WHERE stored.key = counter.key;
      END IF;
      reserved_charges := reserved_charges || jsonb_build_object('key', counter.key, 'kind', 'fixed',
        'amount', charge_amounts[charge_index],
        'endsAt', CASE WHEN charge_ends_at[charge_index] > clock_ms THEN counter.ends_at ELSE charge_ends_at[charge_index] END);
    ELSE
      INSERT INTO ${leases} AS lease (counter_key, reservation_id, expires_at)
        VALUES (counter.key, reservation_key, lease_end)
        ON CONFLICT (counter_key, reservation_id) DO UPDATE SET expires_at = excluded.expires_at;
      IF counter.expires_at < lease_end THEN
        counter.expires_at := lease_end;
        UPDATE ${counters} AS stored SET expires_at = lease_end WHERE stored.key = counter.key;
      END IF;
      reserved_charges := reserved_charges || jsonb_build_object('key', counter.key, 'kind', 'concurrency',
        'amount', charge_amounts[charge_index]);
    END IF;
    -- A later charge on the same counter sees this one.
    stored_rows[charge_counters[charge_index]] := counter;
  END LOOP;

  INSERT INTO ${reservations} AS reservation (id, lease_expires_at, expires_at, charges)
    VALUES (reservation_key, lease_end, lease_end + grace_ms, reserved_charges)
    ON CONFLICT (id) DO UPDATE
      SET lease_expires_at = excluded.lease_expires_at, expires_at = excluded.expires_at, charges = excluded.charges;
  RETURN jsonb_build_object('admitted', true, 'now', clock_ms, 'shadowRefusals', shadow_indexes,
    'usedAfter', used_after);
END
`;
  return `CREATE OR REPLACE FUNCTION ${names.qualified("admit")}(${admitParameters.join(", ")}) RETURNS jsonb
LANGUAGE plpgsql AS ${dollarQuote(body)}`;
}
