import type { ScriptCall } from "./admit-script";
import type { KeyLayout } from "./key-layout";
import { positiveMilliseconds } from "./numbers";
import { chargeParameterOffset, parametersPerCharge, reservationRecordLua } from "./reservation-record";

/**
 * Extends a reservation still in flight: moves its concurrency entries' lease expiry and the record's TTL.
 * KEYS: reservation record. ARGV: reservationId, leaseMs, settleGraceMs. Reply: 1, or 0 when the reservation is
 * unknown (settled, swept) or its lease has already expired.
 */
export const extendLeaseLua = `${reservationRecordLua}
local raw = redis.call('GET', KEYS[1])
if not raw or raw == 'settled' then return 0 end
local admittedAt, leaseExpiresAt, A, counterKeys = readReservation(raw)
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if leaseExpiresAt <= now then return 0 end
local leaseMs = tonumber(ARGV[2])
local newExpiry = string.format('%.0f', now + leaseMs)
for index, key in ipairs(counterKeys) do
  if A[${chargeParameterOffset} + (index - 1) * ${parametersPerCharge} + 1] == 'c' and redis.call('ZSCORE', key, ARGV[1]) then
    redis.call('ZADD', key, 'XX', newExpiry, ARGV[1])
    if redis.call('PTTL', key) < leaseMs then redis.call('PEXPIRE', key, leaseMs) end
  end
end
-- Only the first line (admission time, lease expiry) changes; the rest of the record is kept as it is.
local rest = string.sub(raw, (string.find(raw, '\\n', 1, true)))
redis.call('SET', KEYS[1], string.format('%.0f ', admittedAt) .. newExpiry .. rest, 'PX', leaseMs + tonumber(ARGV[3]))
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
