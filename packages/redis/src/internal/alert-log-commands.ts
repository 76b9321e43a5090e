import { randomBytes } from "node:crypto";
import {
  type AlertLogEntry,
  type AlertLogQuery,
  checkAlertLogEntry,
  checkAlertLogQuery,
  type LoggedAlert,
} from "@tollgate/core";
import type { RedisClient } from "./redis-client";

export interface AlertLogBounds {
  maxEntries: number;
  retentionMs: number;
}

/**
 * The alert log: one sorted set `{<prefix>}alerts` (the store's hash tag, like every key of `KeyLayout`), scored by
 * the alert's time, each member `<16 hex digits>:<alert JSON>` (the random id keeps two equal alerts apart). Recording
 * is one MULTI: add, drop entries older than the retention before the new one, keep the newest `maxEntries`, and set
 * the key's TTL to the retention, so a log nobody writes to any more expires.
 */
export class AlertLogCommands {
  readonly key: string;

  constructor(
    private readonly client: RedisClient,
    prefix: string,
    private readonly bounds: AlertLogBounds,
  ) {
    this.key = `{${prefix}}alerts`;
  }

  async record(entry: AlertLogEntry): Promise<void> {
    checkAlertLogEntry(entry);
    const member = `${randomBytes(8).toString("hex")}:${JSON.stringify(entry.alert)}`;
    const replies = await this.client
      .multi()
      .zadd(this.key, String(entry.time), member)
      .zremrangebyscore(this.key, "-inf", `(${entry.time - this.bounds.retentionMs}`)
      .zremrangebyrank(this.key, 0, -(this.bounds.maxEntries + 1))
      .pexpire(this.key, this.bounds.retentionMs)
      .exec();
    for (const [error] of replies ?? []) if (error) throw error;
  }

  async list(query: AlertLogQuery): Promise<AlertLogEntry[]> {
    checkAlertLogQuery(query);
    if (query.limit === 0) return [];
    const newest = query.until === undefined ? "+inf" : `(${query.until}`;
    const oldest = query.since === undefined ? "-inf" : String(query.since);
    const reply =
      query.limit === undefined
        ? await this.client.zrevrangebyscore(this.key, newest, oldest, "WITHSCORES")
        : await this.client.zrevrangebyscore(this.key, newest, oldest, "WITHSCORES", "LIMIT", 0, query.limit);
    const entries: AlertLogEntry[] = [];
    for (let index = 0; index + 1 < reply.length; index += 2) {
      entries.push({ time: Number(reply[index + 1]), alert: parseMember(reply[index]!) });
    }
    return entries;
  }
}

function parseMember(member: string): LoggedAlert {
  const separator = member.indexOf(":");
  if (separator === -1) throw new Error(`Unexpected alert log member in Redis: ${member.slice(0, 80)}`);
  return JSON.parse(member.slice(separator + 1)) as LoggedAlert;
}
