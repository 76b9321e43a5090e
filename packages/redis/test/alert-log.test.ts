import { alertLogEntry, ConfigurationError, type TollgateAlert } from "@tollgate/core";
import { describe, expect, it } from "vitest";
import { createRedisStore } from "../src/index";
import { redisTestSession } from "./redis-test-session";

const { connection, verdict, newClient, newPrefix } = await redisTestSession("alert");

function threshold(time: number, fraction: number): TollgateAlert {
  return {
    type: "budget.threshold",
    time: new Date(time),
    limitId: "monthly-budget",
    scope: "user",
    subject: "u1",
    period: "2026-11",
    measure: "usd",
    used: fraction * 10,
    limit: 10,
    fraction,
    shadow: false,
  };
}

describe("Redis availability for the alert log tests", () => {
  it.runIf(verdict === "fail")("reaches Redis (required in CI)", () => {
    throw new Error(`CI=true but Redis is unreachable at ${connection.host}:${connection.port}`);
  });
});

describe.runIf(verdict === "run")("Redis alert log", () => {
  it("is one sorted set under the store's hash tag, with a TTL of the retention", async () => {
    const prefix = newPrefix();
    const client = newClient();
    const retentionMs = 30 * 86_400_000;
    const store = createRedisStore(client, { prefix, alertLogRetentionMs: retentionMs });
    const now = Date.now();
    for (const [index, fraction] of [0.5, 0.8, 1].entries()) {
      await store.recordAlert(alertLogEntry(threshold(now + index, fraction)));
    }

    expect(await client.keys(`*${prefix}*`)).toEqual([`{${prefix}}alerts`]);
    expect(await client.type(`{${prefix}}alerts`)).toBe("zset");
    const ttl = await client.pttl(`{${prefix}}alerts`);
    expect(ttl).toBeGreaterThan(retentionMs - 60_000);
    expect(ttl).toBeLessThanOrEqual(retentionMs);
    expect((await store.listAlerts()).map((entry) => entry.alert)).toMatchObject([
      { fraction: 1 },
      { fraction: 0.8 },
      { fraction: 0.5 },
    ]);
  });

  it("holds at most alertLogMaxEntries members, whatever was recorded", async () => {
    const prefix = newPrefix();
    const client = newClient();
    const store = createRedisStore(client, { prefix, alertLogMaxEntries: 5 });
    const start = Date.now();
    for (let index = 0; index < 8; index++) {
      await store.recordAlert(alertLogEntry(threshold(start + index, index / 10)));
      expect(await client.zcard(`{${prefix}}alerts`)).toBe(Math.min(index + 1, 5));
    }
    expect((await store.listAlerts()).map((entry) => entry.time)).toEqual([7, 6, 5, 4, 3].map((i) => start + i));
  });

  it("refuses alert log bounds that are not positive integers", () => {
    const client = newClient();
    expect(() => createRedisStore(client, { alertLogMaxEntries: 0 })).toThrow(ConfigurationError);
    expect(() => createRedisStore(client, { alertLogRetentionMs: 1.5 })).toThrow(/alertLogRetentionMs/);
  });
});
