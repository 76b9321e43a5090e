import type { SettleRequest } from "@tollgate/core";
import type { ScriptCall } from "./admit-script";
import type { KeyLayout } from "./key-layout";
import { nonNegativeInteger } from "./numbers";

/**
 * Replaces a reservation by the true amounts, once: the record is deleted, so a second settle finds nothing.
 * Deltas land only in the slot or period the charge went to, and only while it still exists (no refund crosses a
 * rollover, no key is recreated without its TTL); counters never go below zero. Concurrency is always released.
 *
 * KEYS: reservation record. ARGV: reservationId, tombstoneMs, then the true amount of each charge (missing = as
 * reserved).
 * The counter keys come from the record. They were passed as KEYS at admission and share the store's hash tag,
 * so they live in the record's slot. Reply: 1 when a reservation was settled, 0 when none was found.
 */
export const settleLua = `
local settledMark = 'settled'
local raw = redis.call('GET', KEYS[1])
-- The record becomes a tombstone: a replayed settle, or a replayed admission arriving after this settle, finds it.
-- Settling an unknown id leaves one too, so an admission still on its way (sent before a disconnect, re-sent after
-- it) cannot charge a call the guard has already given up on.
if raw ~= settledMark then redis.call('SET', KEYS[1], settledMark, 'PX', ARGV[2]) end
if not raw or raw == settledMark then return 0 end
local reservation = cjson.decode(raw)
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local amountCount = #ARGV - 2
for index, charge in ipairs(reservation.c) do
  local key = charge.k
  if charge.t == 'c' then
    redis.call('ZREM', key, ARGV[1])
  elseif index <= amountCount then
    local delta = tonumber(ARGV[2 + index]) - tonumber(charge.a)
    if delta ~= 0 then
      if charge.t == 'f' then
        if now < tonumber(charge.e) and redis.call('EXISTS', key) == 1 then
          if redis.call('INCRBY', key, delta) < 0 then redis.call('SET', key, '0', 'KEEPTTL') end
        end
      else
        local first = math.floor(now / tonumber(charge.m)) - tonumber(charge.n)
        if tonumber(charge.i) >= first and redis.call('HEXISTS', key, charge.i) == 1 then
          if redis.call('HINCRBY', key, charge.i, delta) < 0 then redis.call('HSET', key, charge.i, '0') end
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
