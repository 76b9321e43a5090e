import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createRedisStore } from "../src/index";
import { redisTestSession } from "./redis-test-session";
import { usageRecord } from "./store-fixtures";

const { connection, verdict, newClient, newPrefix } = await redisTestSession("record-id");

describe("Redis availability for the recorded-id tests", () => {
  it.runIf(verdict === "fail")("reaches Redis (required in CI)", () => {
    throw new Error(`CI=true but Redis is unreachable at ${connection.host}:${connection.port}`);
  });
});

describe.runIf(verdict === "run")("Redis ledger deduplication", () => {
  it("keeps one marker per recorded id, under the store's hash tag, for 10 minutes; none for a record without id", async () => {
    const prefix = newPrefix();
    const client = newClient();
    const store = createRedisStore(client, { prefix });
    const id = randomUUID();
    await store.record(usageRecord({ id }));
    await store.record(usageRecord({ id }));
    await store.record(usageRecord({}));

    const markers = await client.keys(`{${prefix}}recorded:*`);
    expect(markers).toEqual([`{${prefix}}recorded:${id}`]);
    const ttl = await client.pttl(markers[0]!);
    expect(ttl).toBeGreaterThan(540_000);
    expect(ttl).toBeLessThanOrEqual(600_000);
    expect(await store.queryUsage({})).toMatchObject([{ requests: 2, costNanoUsd: 2_000 }]);
  });

  it("counts the record again once its marker is gone (the window is the marker's life)", async () => {
    const prefix = newPrefix();
    const client = newClient();
    const store = createRedisStore(client, { prefix });
    const id = randomUUID();
    await store.record(usageRecord({ id }));
    await client.del(`{${prefix}}recorded:${id}`);
    await store.record(usageRecord({ id }));
    expect(await store.queryUsage({})).toMatchObject([{ requests: 2 }]);
  });
});
