import type { BlockEntry } from "@tollgate/core";
import type { ScriptCall } from "./admit-script";
import { serializeBlockEntry } from "./block-entry";
import type { KeyLayout } from "./key-layout";

/** Keeps the block index alive exactly as long as its longest block (forever while an open-ended one exists). */
const refreshIndexExpiry = `
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
if last[2] then
  if last[2] == 'inf' then
    redis.call('PERSIST', KEYS[2])
  else
    redis.call('PEXPIREAT', KEYS[2], string.format('%.0f', tonumber(last[2])))
  end
end
`;

/**
 * Sets a block entry (a string that expires at `until`, none for an open-ended block) and indexes it.
 * KEYS: block entry, block index. ARGV: entry JSON, until ("" for none), the core's block key.
 */
export const blockLua = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if ARGV[2] == '' then
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('ZADD', KEYS[2], '+inf', ARGV[3])
elseif tonumber(ARGV[2]) > now then
  redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
else
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[3])
end
${refreshIndexExpiry}
return 1
`;

/** Removes a block entry. KEYS: block entry, block index. ARGV: the core's block key. */
export const unblockLua = `
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
${refreshIndexExpiry}
return 1
`;

export function blockCall(layout: KeyLayout, entry: BlockEntry): ScriptCall {
  if (entry.until !== undefined && !Number.isFinite(entry.until)) {
    throw new RangeError(`until must be finite or undefined, got ${entry.until}`);
  }
  return {
    keys: [layout.block(entry.key), layout.blockIndex()],
    arguments: [serializeBlockEntry(entry), entry.until === undefined ? "" : String(Math.ceil(entry.until)), entry.key],
  };
}

export function unblockCall(layout: KeyLayout, key: string): ScriptCall {
  return { keys: [layout.block(key), layout.blockIndex()], arguments: [key] };
}
