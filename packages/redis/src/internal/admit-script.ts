import type { AdmitRequest, AdmitResult, BlockEntry } from "@tollgate/core";
import { parseBlockEntry } from "./block-entry";
import { type KeyLayout, slotMs } from "./key-layout";
import { nonNegativeInteger, positiveMilliseconds } from "./numbers";
import { chargeParameterOffset, parametersPerCharge } from "./reservation-record";

/**
 * Checks every charge, then applies all of them or none, in one script (one round trip).
 *
 * KEYS: reservation record, block keys…, counter keys… (one per charge).
 * ARGV: reservationId, then every other parameter as one JSON array of strings: blockCount, chargeCount, leaseMs,
 * dryRun ("1"/"0"), settleGraceMs, then six per charge: kind ("s" sliding, "f" fixed, "c" concurrency), amount,
 * capacity, enforce ("1"/"0"), and for sliding slotMs + slots, for fixed endsAt + "-". One argument, because 36
 * separate ones cost ioredis more to encode than the whole script costs Redis; JSON, because cjson splits it in half
 * the time Lua's pattern matching takes (measured: 2.0 vs 4.4 µs of Redis CPU).
 *
 * Time is the server's (`TIME`). A sliding counter is a hash of slot index → amount plus two fields: `t`, the sum of
 * its slot fields, and `o`, a slot index no present slot is below. A slot counts while index >= current − slots.
 * Reading a window is one `HMGET t o <slot>`; only when `o` says a slot may have left the window does the script
 * read the whole hash, drop the stale slots and recount (at most once per slot length and key). Writing sets the
 * slot and `t` in one `HSET`. This replaced an `HGETALL` of up to 20 slots per window per call: the admission of the
 * benchmark's five limits went from 47 to 30 µs of Redis CPU once the windows had filled (same run, interleaved).
 * Fixed counters are strings that expire at `endsAt`. Concurrency counters are sorted sets of reservation ids scored
 * by lease expiry. The reservation record is written first, with `SET NX`: finding it there means the admission is
 * a replay (below); a refusal deletes it again.
 *
 * Reply: {1, now, shadowRefusals, usedAfter} | {0, now, "blocked", entryJson} |
 * {0, now, "limit", chargeIndex, used, retryAfterMs or -1}.
 */
export const admitLua = `
local A = cjson.decode(ARGV[2])
local blockCount = tonumber(A[1])
local chargeCount = tonumber(A[2])
local leaseMs = tonumber(A[3])
local dryRun = A[4] == '1'
local counterBase = 1 + blockCount
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

-- A replay of an admission already applied (ioredis re-sends unanswered commands after a reconnect, Cluster after a
-- failover) finds its record, or the tombstone its settlement left, and charges nothing again.
local replay = false
if not dryRun then
  local record = string.format('%.0f %.0f\\n', now, now + leaseMs) .. ARGV[2] .. '\\n' ..
    table.concat(KEYS, '\\n', counterBase + 1, counterBase + chargeCount)
  replay = not redis.call('SET', KEYS[1], record, 'NX', 'PX', leaseMs + tonumber(A[5]))
end
local function refuse(reply)
  if not dryRun then redis.call('DEL', KEYS[1]) end
  return reply
end

if blockCount > 0 and not replay then
  local entries = redis.call('MGET', unpack(KEYS, 2, counterBase))
  for index = 1, blockCount do
    local entry = entries[index]
    -- Redis still returns a key at exactly its expiry time (PXAT until): the block has ended at until, as elsewhere.
    if entry then
      local ends = cjson.decode(entry)[3]
      if ends == cjson.null or tonumber(ends) > now then return refuse({0, now, 'blocked', entry}) end
    end
  end
end

-- Live slots of a window hash, oldest first, as {index, amount}; stale slot fields are deleted.
local function liveSlots(key, first)
  local fields = redis.call('HGETALL', key)
  local live, stale = {}, {}
  for position = 1, #fields, 2 do
    local name = fields[position]
    if name ~= 't' and name ~= 'o' then
      local slot = tonumber(name)
      if slot < first then stale[#stale + 1] = name else live[#live + 1] = {slot, tonumber(fields[position + 1])} end
    end
  end
  if #stale > 0 then redis.call('HDEL', key, unpack(stale)) end
  table.sort(live, function(left, right) return left[1] < right[1] end)
  return live
end

local usedAfter = {}
local shadowRefusals = {}
-- Per sliding charge: this call's slot (index and field name), the slot's amount before it (nil: not opened yet),
-- and whether 'o' must move to this slot (a new or emptied hash, or a server clock that stepped back).
local slotIndexes = {}
local slotFields = {}
local slotAmounts = {}
local movesOldest = {}
for index = 1, chargeCount do
  local key = KEYS[counterBase + index]
  local base = ${chargeParameterOffset} + (index - 1) * ${parametersPerCharge}
  local kind = A[base + 1]
  local amount = tonumber(A[base + 2])
  local capacity = tonumber(A[base + 3])
  local used = 0
  if kind == 's' then
    local current = math.floor(now / tonumber(A[base + 5]))
    local first = current - tonumber(A[base + 6])
    slotIndexes[index] = current
    local slot = string.format('%.0f', current)
    slotFields[index] = slot
    local head = redis.call('HMGET', key, 't', 'o', slot)
    slotAmounts[index] = tonumber(head[3])
    local oldest = tonumber(head[2])
    if oldest == nil then
      oldest = current
      movesOldest[index] = true
    elseif oldest < first or not head[1] then
      local live = liveSlots(key, first)
      for _, entry in ipairs(live) do used = used + entry[2] end
      if live[1] then
        oldest = live[1][1]
        redis.call('HSET', key, 't', string.format('%.0f', used), 'o', string.format('%.0f', oldest))
      else
        redis.call('DEL', key)
        slotAmounts[index] = nil
        oldest = current
        movesOldest[index] = true
      end
    else
      used = tonumber(head[1])
    end
    -- After the server clock stepped back, this call's slot can be older than every stored one.
    if current < oldest then movesOldest[index] = true end
  elseif kind == 'f' then
    if now < tonumber(A[base + 5]) then used = tonumber(redis.call('GET', key) or '0') end
  else
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
    used = redis.call('ZCARD', key)
  end
  usedAfter[index] = used + amount
  if replay then
    usedAfter[index] = used
  elseif used + amount > capacity then
    if A[base + 4] ~= '1' then
      shadowRefusals[#shadowRefusals + 1] = index - 1
    else
      local retryAfterMs = -1
      if amount <= capacity then
        if kind == 'f' then
          retryAfterMs = tonumber(A[base + 5]) - now
        elseif kind == 's' then
          local slotMs = tonumber(A[base + 5])
          local slots = tonumber(A[base + 6])
          local remaining = used
          for _, live in ipairs(liveSlots(key, slotIndexes[index] - slots)) do
            remaining = remaining - live[2]
            if remaining + amount <= capacity then
              retryAfterMs = (live[1] + slots + 1) * slotMs - now
              break
            end
          end
        else
          local earliest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
          if earliest[2] then retryAfterMs = tonumber(earliest[2]) - now end
        end
      end
      return refuse({0, now, 'limit', index - 1, used, retryAfterMs})
    end
  end
end

if replay or dryRun then return {1, now, shadowRefusals, usedAfter} end

for index = 1, chargeCount do
  local key = KEYS[counterBase + index]
  local base = ${chargeParameterOffset} + (index - 1) * ${parametersPerCharge}
  local kind = A[base + 1]
  local amount = A[base + 2]
  if kind == 's' then
    local slot = slotFields[index]
    local slotAmount = slotAmounts[index]
    -- Slot and total in one write. Every value is an integer below 2^53, which '%.0f' prints exactly.
    redis.call('HSET', key, slot, string.format('%.0f', (slotAmount or 0) + tonumber(amount)), 't',
      string.format('%.0f', usedAfter[index]))
    if movesOldest[index] then redis.call('HSET', key, 'o', slot) end
    -- The newest slot lives longest: when this call opens a slot, the hash expires as that slot leaves the window.
    if slotAmount == nil then
      redis.call('PEXPIREAT', key, string.format('%.0f', (slotIndexes[index] + tonumber(A[base + 6]) + 1) *
        tonumber(A[base + 5])))
    end
  elseif kind == 'f' then
    local endsAt = A[base + 5]
    if now < tonumber(endsAt) then
      -- A period's counter expires at its end; set it when this call creates the counter.
      if redis.call('INCRBY', key, amount) == tonumber(amount) then redis.call('PEXPIREAT', key, endsAt) end
    end
  else
    redis.call('ZADD', key, string.format('%.0f', now + leaseMs), ARGV[1])
    if redis.call('PTTL', key) < leaseMs then redis.call('PEXPIRE', key, leaseMs) end
  end
end
return {1, now, shadowRefusals, usedAfter}
`;

export interface ScriptCall {
  keys: string[];
  arguments: string[];
}

/** Validates a request (a script that fails halfway would not roll back) and lays it out as KEYS and ARGV. */
export function admitCall(layout: KeyLayout, request: AdmitRequest, settleGraceMs: number): ScriptCall {
  const keys = [layout.reservation(request.reservationId)];
  for (const blockKey of request.blockKeys) keys.push(layout.block(blockKey));
  const parameters = [
    String(request.blockKeys.length),
    String(request.charges.length),
    String(positiveMilliseconds(request.leaseMs, "leaseMs")),
    request.dryRun === true ? "1" : "0",
    String(settleGraceMs),
  ];
  request.charges.forEach((charge, index) => {
    const field = `charges[${index}]`;
    const amount = nonNegativeInteger(charge.amount, `${field}.amount`);
    if (typeof charge.capacity !== "number" || Number.isNaN(charge.capacity) || charge.capacity < 0) {
      throw new RangeError(`${field}.capacity must be a non-negative number, got ${charge.capacity}`);
    }
    // Lua reads numbers with strtod; "1e308" is a portable stand-in for "no limit".
    const capacity = charge.capacity === Number.POSITIVE_INFINITY ? "1e308" : String(charge.capacity);
    const enforce = charge.enforce ? "1" : "0";
    const key = layout.counter(charge);
    // The reservation record lists the counter keys one per line.
    if (key.includes("\n")) throw new RangeError(`${field}.key must not contain a newline`);
    keys.push(key);
    const window = charge.window;
    if (window.kind === "sliding") {
      positiveMilliseconds(window.windowMs, `${field}.window.windowMs`);
      const slots = nonNegativeInteger(window.slots, `${field}.window.slots`);
      if (slots < 1) throw new RangeError(`${field}.window.slots must be at least 1`);
      const slot = slotMs(window.windowMs, slots);
      parameters.push("s", String(amount), capacity, enforce, String(slot), String(slots));
    } else if (window.kind === "fixed") {
      if (!Number.isFinite(window.endsAt)) throw new RangeError(`${field}.window.endsAt must be finite`);
      parameters.push("f", String(amount), capacity, enforce, String(Math.ceil(window.endsAt)), "-");
    } else {
      parameters.push("c", String(amount), capacity, enforce, "-", "-");
    }
  });
  return { keys, arguments: [request.reservationId, JSON.stringify(parameters)] };
}

export function parseAdmitReply(reply: unknown): AdmitResult {
  if (!Array.isArray(reply)) throw new Error(`Unexpected admit reply: ${JSON.stringify(reply)}`);
  const now = integer(reply[1]);
  if (reply[0] === 1) {
    return { admitted: true, now, shadowRefusals: integers(reply[2]), usedAfter: integers(reply[3]) };
  }
  if (reply[2] === "blocked") {
    const entry: BlockEntry = parseBlockEntry(String(reply[3]));
    return { admitted: false, now, refusal: { kind: "blocked", entry } };
  }
  const retryAfterMs = integer(reply[5]);
  return {
    admitted: false,
    now,
    refusal: {
      kind: "limit",
      chargeIndex: integer(reply[3]),
      used: integer(reply[4]),
      retryAfterMs: retryAfterMs < 0 ? undefined : retryAfterMs,
    },
  };
}

function integer(value: unknown): number {
  if (typeof value !== "number") throw new Error(`Unexpected admit reply field: ${JSON.stringify(value)}`);
  return value;
}

function integers(value: unknown): number[] {
  if (!Array.isArray(value)) throw new Error(`Unexpected admit reply field: ${JSON.stringify(value)}`);
  return value.map(integer);
}
