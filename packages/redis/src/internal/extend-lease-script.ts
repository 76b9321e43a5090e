import type { ScriptCall } from "./admit-script";
import type { KeyLayout } from "./key-layout";
import { positiveMilliseconds } from "./numbers";

/**
 * Extends a reservation still in flight: moves its concurrency entries' lease expiry and the record's TTL.
 * KEYS: reservation record. ARGV: reservationId, leaseMs, settleGraceMs. Reply: 1, or 0 when the reservation is
 * unknown (settled, swept) or its lease has already expired.
 */
export const extendLeaseLua = `
local raw = redis.call('GET', KEYS[1])
if not raw or raw == 'settled' then return 0 end
local reservation = cjson.decode(raw)
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if tonumber(reservation.l) <= now then return 0 end
local leaseMs = tonumber(ARGV[2])
local leaseExpiresAt = string.format('%.0f', now + leaseMs)
reservation.l = leaseExpiresAt
for _, charge in ipairs(reservation.c) do
  if charge.t == 'c' and redis.call('ZSCORE', charge.k, ARGV[1]) then
    redis.call('ZADD', charge.k, 'XX', leaseExpiresAt, ARGV[1])
    if redis.call('PTTL', charge.k) < leaseMs then redis.call('PEXPIRE', charge.k, leaseMs) end
  end
end
redis.call('SET', KEYS[1], cjson.encode(reservation), 'PX', leaseMs + tonumber(ARGV[3]))
return 1
`;

export function extendLeaseCall(
  layout: KeyLayout,
  reservationId: string,
  leaseMs: number,
  settleGraceMs: number,
): ScriptCall {
  return {
    keys: [layout.reservation(reservationId)],
    arguments: [reservationId, String(positiveMilliseconds(leaseMs, "leaseMs")), String(settleGraceMs)],
  };
}
