/**
 * The reservation record an admission leaves for its settlement, as Lua source shared by the three scripts that
 * read or write it. One string, built by concatenation: the admission copies its own arguments into it instead of
 * encoding a JSON object (`cjson.encode` of the former record cost ~2.5 µs of Redis CPU per call):
 *
 *   <admitted at, ms> <lease expires at, ms>\n<the admission's parameters, as sent>\n<counter key>\n<counter key>…
 *
 * The parameters are the JSON array `admitCall` sends (strings only: charge kind, amount, capacity, enforce and
 * window of each charge, at offset `chargeParameterOffset`), so the record holds everything settlement needs: the
 * amount reserved, the slot (⌊admitted at / slotMs⌋) or period it went to, and the key. Counter keys never hold a
 * newline (`admitCall` refuses them).
 */
export const reservationRecordLua = `
local function readReservation(raw)
  local admittedAt, leaseExpiresAt, parameters, keys = string.match(raw, '^(%d+) (%d+)\\n([^\\n]*)\\n?(.*)$')
  local counterKeys = {}
  for key in string.gmatch(keys, '[^\\n]+') do counterKeys[#counterKeys + 1] = key end
  return tonumber(admittedAt), tonumber(leaseExpiresAt), cjson.decode(parameters), counterKeys
end
`;

/** Index in the parameter array (1-based, as Lua reads it) before the first charge's six parameters. */
export const chargeParameterOffset = 5;

/** Parameters per charge: kind, amount, capacity, enforce, and two for the window. */
export const parametersPerCharge = 6;
