import type { SettleRequest } from "@tollgate/core";
import type { ScriptCall } from "./admit-script";
import type { KeyLayout } from "./key-layout";
import { nonNegativeInteger } from "./numbers";
import { chargeParameterOffset, parametersPerCharge, reservationRecordLua } from "./reservation-record";

/**
 * Replaces a reservation by the true amounts, once: the record becomes a tombstone, so a second settle finds nothing.
 * Deltas land only in the slot or period the charge went to, and only while it still exists (no refund crosses a
 * rollover, no key is recreated without its TTL); counters never go below zero, and a window's total `t` moves with
 * its slot. Concurrency is always released.
 *
 * KEYS: reservation record. ARGV: reservationId, tombstoneMs, then the true amount of each charge (missing = as
 * reserved).
 * The counter keys come from the record. They were passed as KEYS at admission and share the store's hash tag,
 * so they live in the record's slot. Reply: 1 when a reservation was settled, 0 when none was found.
 */
export const settleLua = `${reservationRecordLua}
local settledMark = 'settled'
local raw = redis.call('GET', KEYS[1])
-- The record becomes a tombstone: a replayed settle, or a replayed admission arriving after this settle, finds it.
-- Settling an unknown id leaves one too, so an admission still on its way (sent before a disconnect, re-sent after
-- it) cannot charge a call the guard has already given up on.
if raw ~= settledMark then redis.call('SET', KEYS[1], settledMark, 'PX', ARGV[2]) end
if not raw or raw == settledMark then return 0 end
local admittedAt, _, A, counterKeys = readReservation(raw)
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local amountCount = #ARGV - 2
for index, key in ipairs(counterKeys) do
  local base = ${chargeParameterOffset} + (index - 1) * ${parametersPerCharge}
  local kind = A[base + 1]
  if kind == 'c' then
    redis.call('ZREM', key, ARGV[1])
  elseif index <= amountCount then
    local delta = tonumber(ARGV[2 + index]) - tonumber(A[base + 2])
    if delta ~= 0 then
      if kind == 'f' then
        if now < tonumber(A[base + 5]) and redis.call('EXISTS', key) == 1 then
          if redis.call('INCRBY', key, delta) < 0 then redis.call('SET', key, '0', 'KEEPTTL') end
        end
      else
        local slotMs = tonumber(A[base + 5])
        local slotIndex = math.floor(admittedAt / slotMs)
        local slot = string.format('%.0f', slotIndex)
        if slotIndex >= math.floor(now / slotMs) - tonumber(A[base + 6]) then
          -- A slot that is gone took its hash with it (the hash expires with its newest slot): nothing to correct.
          local values = redis.call('HMGET', key, slot, 't')
          if values[1] then
            local slotAmount = tonumber(values[1])
            local applied = math.max(delta, -slotAmount)
            if applied ~= 0 then
              redis.call('HSET', key, slot, string.format('%.0f', slotAmount + applied), 't',
                string.format('%.0f', (tonumber(values[2]) or 0) + applied))
            end
          end
        end
      end
    end
  end
end
return 1
`;

/**
 * How long a settled reservation's tombstone stays: replays come from a client reconnecting, seconds after the
 * original; a minute covers that at the cost of one small key per call settled in the last minute.
 */
export const settledTombstoneMs = 60_000;

export function settleCall(layout: KeyLayout, request: SettleRequest): ScriptCall {
  const amounts = request.amounts.map((amount, index) => String(nonNegativeInteger(amount, `amounts[${index}]`)));
  return {
    keys: [layout.reservation(request.reservationId)],
    arguments: [request.reservationId, String(settledTombstoneMs), ...amounts],
  };
}
