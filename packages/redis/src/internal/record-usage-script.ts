import type { UsageRecord } from "@tollgate/core";
import type { ScriptCall } from "./admit-script";
import type { KeyLayout } from "./key-layout";
import { nonNegativeInteger } from "./numbers";
import { dayMs, encodeDimensions, isoDay, recordIncrements } from "./usage-totals";

/** How long the marker of a recorded id lives: the store contract's 10 minutes, past the guard's last retry (~90 s). */
export const recordedIdTtlMs = 600_000;

/**
 * Adds one usage record to the aggregate of its UTC day and dimension tuple, and indexes both. A record with an id
 * first sets the id's marker (`SET NX PX`); when the marker already exists, the record was written before (a retry
 * of a write that timed out but was applied) and nothing is added.
 * KEYS: day aggregate (hash), day index (set of tuples), recorded days (sorted set scored by day number), and for a
 * record with an id its marker.
 * ARGV: tuple, ISO day, day number, expireAt (end of day + retention, epoch ms), retentionMs, marker TTL (ms), then
 * field/increment pairs. Every key expires at the end of its retention; a record already past it is dropped.
 */
export const recordUsageLua = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local expireAt = tonumber(ARGV[4])
if expireAt <= now then return 0 end
if KEYS[4] and not redis.call('SET', KEYS[4], '1', 'NX', 'PX', ARGV[6]) then return 0 end
for position = 7, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[position], ARGV[position + 1]) end
redis.call('PEXPIREAT', KEYS[1], ARGV[4])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('PEXPIREAT', KEYS[2], ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
local lastExpiredDay = math.floor((now - tonumber(ARGV[5])) / ${dayMs}) - 1
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', lastExpiredDay)
local ttl = redis.call('PTTL', KEYS[3])
if ttl < 0 or now + ttl < expireAt then redis.call('PEXPIREAT', KEYS[3], ARGV[4]) end
return 1
`;

export function recordUsageCall(layout: KeyLayout, record: UsageRecord, retentionMs: number): ScriptCall {
  if (!Number.isFinite(record.time)) throw new RangeError(`record.time must be finite, got ${record.time}`);
  const dayNumber = Math.floor(record.time / dayMs);
  const day = isoDay(record.time);
  const dimensions = encodeDimensions(record);
  const parameters = [
    dimensions,
    day,
    String(dayNumber),
    String((dayNumber + 1) * dayMs + retentionMs),
    String(retentionMs),
    String(recordedIdTtlMs),
  ];
  for (const [field, value] of recordIncrements(record)) {
    parameters.push(field, String(nonNegativeInteger(value, `record.${field}`)));
  }
  const keys = [layout.usage(day, dimensions), layout.usageIndex(day), layout.usageDays()];
  if (record.id !== undefined) keys.push(layout.recordedId(record.id));
  return { keys, arguments: parameters };
}
