import { createHash } from "node:crypto";
import { admitLua, type ScriptCall } from "./admit-script";
import { blockLua, unblockLua } from "./block-list-scripts";
import { extendLeaseLua } from "./extend-lease-script";
import { recordUsageLua } from "./record-usage-script";
import type { RedisClient } from "./redis-client";
import { settleLua } from "./settle-script";

/** Runs one script in one round trip: EVALSHA, with ioredis re-sending it as EVAL after a NOSCRIPT. */
export type ScriptRunner = (call: ScriptCall) => Promise<unknown>;

export interface TollgateScripts {
  admit: ScriptRunner;
  settle: ScriptRunner;
  extendLease: ScriptRunner;
  recordUsage: ScriptRunner;
  block: ScriptRunner;
  unblock: ScriptRunner;
}

/**
 * Registers the store's Lua scripts on the client with ioredis `defineCommand`. Command names carry a hash of the
 * script, so two versions of this package sharing one client never run each other's scripts.
 */
export function defineTollgateScripts(client: RedisClient): TollgateScripts {
  return {
    admit: defineScript(client, "admit", admitLua),
    settle: defineScript(client, "settle", settleLua),
    extendLease: defineScript(client, "extendLease", extendLeaseLua),
    recordUsage: defineScript(client, "recordUsage", recordUsageLua),
    block: defineScript(client, "block", blockLua),
    unblock: defineScript(client, "unblock", unblockLua),
  };
}

function defineScript(client: RedisClient, name: string, lua: string): ScriptRunner {
  const commandName = `tollgate_${name}_${createHash("sha1").update(lua).digest("hex").slice(0, 12)}`;
  client.defineCommand(commandName, { lua });
  const command: unknown = Reflect.get(client, commandName);
  if (typeof command !== "function") throw new Error(`ioredis did not define the command ${commandName}`);
  return (call) => Reflect.apply(command, client, [call.keys.length, ...call.keys, ...call.arguments]);
}
