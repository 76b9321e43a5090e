import type { AdmitRequest, AdmitResult, BlockEntry } from "@tollgate/core";
import { parseBlockEntry } from "./block-entry";
import { type KeyLayout, slotMs } from "./key-layout";
import { nonNegativeInteger, positiveMilliseconds } from "./numbers";

/**
 * Checks every charge, then applies all of them or none, in one script (one round trip).
 *
 * KEYS: reservation record, block keys…, counter keys… (one per charge).
 * ARGV: reservationId, then every other parameter in one space-separated string, which the script splits into `A`:
 * blockCount, chargeCount, (reservationId), leaseMs, dryRun ("1"/"0"), settleGraceMs, then six per charge:
 * kind ("s" sliding, "f" fixed, "c" concurrency), amount, capacity, enforce ("1"/"0"), and for sliding
 * slotMs + slots, for fixed endsAt + "-". One packed argument instead of 6 + 6 per charge: with five limits the
 * 36 separate arguments cost more to encode and parse (about 25 µs a round trip, measured) than the split does.
 *
 * Time is the server's (`TIME`). Sliding counters are hashes of slot index → amount; a slot counts while
 * index >= current − slots, older fields are dropped here. Fixed counters are strings that expire at `endsAt`.
 * Concurrency counters are sorted sets of reservation ids scored by lease expiry. The reservation record is JSON
 * with every number as a string (Redis' cjson keeps only 14 significant digits).
 *
 * Reply: {1, now, shadowRefusals, usedAfter} | {0, now, "blocked", entryJson} |
 * {0, now, "limit", chargeIndex, used, retryAfterMs or -1}.
 */
export const admitLua = `
local A = {}
for token in string.gmatch(ARGV[2], '%S+') do A[#A + 1] = token end
table.insert(A, 3, ARGV[1])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local blockCount = tonumber(A[1])
local chargeCount = tonumber(A[2])
local reservationId = A[3]
local leaseMs = tonumber(A[4])
-- A replay of an admission already applied (ioredis re-sends unanswered commands after a reconnect, Cluster after a
-- failover) finds its record, or the tombstone its settlement left, and charges nothing again.
local replay = A[5] ~= '1' and redis.call('EXISTS', KEYS[1]) == 1

for index = 1, replay and 0 or blockCount do
  local entry = redis.call('GET', KEYS[1 + index])
  -- Redis still returns a key at exactly its expiry time (PXAT until): the block has ended at until, as elsewhere.
  if entry then
    local ends = cjson.decode(entry)[3]
    if ends == cjson.null or tonumber(ends) > now then return {0, now, 'blocked', entry} end
  end
end

local usedAfter = {}
local slotIndexes = {}
local shadowRefusals = {}
for index = 1, chargeCount do
  local key = KEYS[1 + blockCount + index]
  local base = 6 + (index - 1) * 6
  local kind = A[base + 1]
  local amount = tonumber(A[base + 2])
  local capacity = tonumber(A[base + 3])
  local used = 0
  local liveSlots = {}
  if kind == 's' then
    local current = math.floor(now / tonumber(A[base + 5]))
    local first = current - tonumber(A[base + 6])
    slotIndexes[index] = current
    local fields = redis.call('HGETALL', key)
    local stale = {}
    for position = 1, #fields, 2 do
      local slot = tonumber(fields[position])
      if slot < first then
        stale[#stale + 1] = fields[position]
      else
        local slotAmount = tonumber(fields[position + 1])
        used = used + slotAmount
        liveSlots[#liveSlots + 1] = {slot, slotAmount}
      end
    end
    if #stale > 0 then redis.call('HDEL', key, unpack(stale)) end
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
          table.sort(liveSlots, function(left, right) return left[1] < right[1] end)
          local remaining = used
          for _, live in ipairs(liveSlots) do
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
      return {0, now, 'limit', index - 1, used, retryAfterMs}
    end
  end
end

if replay or A[5] == '1' then return {1, now, shadowRefusals, usedAfter} end

local leaseExpiresAt = now + leaseMs
local reserved = {}
for index = 1, chargeCount do
  local key = KEYS[1 + blockCount + index]
  local base = 6 + (index - 1) * 6
  local kind = A[base + 1]
  local amount = A[base + 2]
  if kind == 's' then
    local slotMs = tonumber(A[base + 5])
    local slotIndex = slotIndexes[index]
    -- The newest slot lives longest: when this call opens a slot, the hash expires as that slot leaves the window.
    if redis.call('HINCRBY', key, string.format('%.0f', slotIndex), amount) == tonumber(amount) then
      redis.call('PEXPIREAT', key, string.format('%.0f', (slotIndex + tonumber(A[base + 6]) + 1) * slotMs))
    end
    reserved[index] = {k = key, t = 's', a = amount, i = string.format('%.0f', slotIndex), m = A[base + 5],
      n = A[base + 6]}
  elseif kind == 'f' then
    local endsAt = A[base + 5]
    if now < tonumber(endsAt) then
      -- A period's counter expires at its end; set it when this call creates the counter.
      if redis.call('INCRBY', key, amount) == tonumber(amount) then redis.call('PEXPIREAT', key, endsAt) end
    end
    reserved[index] = {k = key, t = 'f', a = amount, e = endsAt}
  else
    redis.call('ZADD', key, string.format('%.0f', leaseExpiresAt), reservationId)
    if redis.call('PTTL', key) < leaseMs then redis.call('PEXPIRE', key, leaseMs) end
    reserved[index] = {k = key, t = 'c', a = amount}
  end
end
redis.call('SET', KEYS[1], cjson.encode({l = string.format('%.0f', leaseExpiresAt), c = reserved}), 'PX',
  leaseMs + tonumber(A[6]))
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
    keys.push(layout.counter(charge));
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
  return { keys, arguments: [request.reservationId, parameters.join(" ")] };
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
