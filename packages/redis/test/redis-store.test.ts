import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { type AdmitRequest, ConfigurationError, type CounterCharge } from "@tollgate/core";
import { describeStoreContract } from "@tollgate/testing/store-contract";
import { Cluster, Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { createRedisStore } from "../src/index";
import { probeRedis, type RedisConnection, redisVerdict } from "./redis-availability";
import { usageRecord, windowSlots } from "./store-fixtures";

const connection: RedisConnection = {
  host: process.env.REDIS_HOST ?? "127.0.0.1",
  port: Number(process.env.REDIS_PORT ?? 6379),
};
const ci = process.env.CI === "true";
const probe = await probeRedis(connection);
const verdict = redisVerdict(probe, ci);
if (verdict === "skip" && !probe.reachable) {
  console.warn(
    `Skipping the Redis store tests: no Redis at ${connection.host}:${connection.port} (${probe.reason}). In CI (CI=true) this fails instead.`,
  );
}

/** Every key this file writes starts with `{tollgate-test:<run>:`; they are deleted at the end. */
const runId = randomUUID();
const clients: (Redis | Cluster)[] = [];
const servers: Server[] = [];

interface ClientOverrides {
  host?: string;
  port?: number;
  enableOfflineQueue?: boolean;
  keyPrefix?: string;
  retryStrategy?: () => null;
}

function newClient(overrides: ClientOverrides = {}): Redis {
  const client = new Redis({ ...connection, enableOfflineQueue: false, lazyConnect: true, ...overrides });
  client.on("error", () => undefined);
  clients.push(client);
  return client;
}

function newPrefix(): string {
  return `tollgate-test:${runId}:${randomUUID()}:`;
}

afterAll(async () => {
  if (verdict === "run") {
    const cleaner = newClient();
    await cleaner.connect();
    for (const key of await scanKeys(cleaner, `{tollgate-test:${runId}:*`)) await cleaner.unlink(key);
  }
  await Promise.all(
    clients.map(async (client) => {
      if (client.status === "ready") await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    }),
  );
  for (const server of servers) server.close();
});

describe("Redis availability", () => {
  it("fails in CI when Redis is unreachable instead of skipping, and skips with a message elsewhere", async () => {
    const closedPort = await unusedPort();
    const unreachable = await probeRedis({ host: "127.0.0.1", port: closedPort });
    expect(unreachable.reachable).toBe(false);
    expect(redisVerdict(unreachable, true)).toBe("fail");
    expect(redisVerdict(unreachable, false)).toBe("skip");
    expect(redisVerdict({ reachable: true }, true)).toBe("run");
  });

  it.runIf(verdict === "fail")(`reaches Redis at ${connection.host}:${connection.port} (required in CI)`, () => {
    throw new Error(
      `CI=true but Redis is unreachable at ${connection.host}:${connection.port}: ${probe.reachable ? "" : probe.reason}`,
    );
  });
});

describe("createRedisStore options", () => {
  it("refuses a client with the offline queue on, naming the option", () => {
    const queued = newClient({ enableOfflineQueue: true });
    expect(() => createRedisStore(queued)).toThrow(/enableOfflineQueue: false/);
    const cluster = new Cluster([connection], { lazyConnect: true });
    clients.push(cluster);
    expect(() => createRedisStore(cluster)).toThrow(ConfigurationError);
    const quietCluster = new Cluster([connection], { lazyConnect: true, enableOfflineQueue: false });
    clients.push(quietCluster);
    expect(() => createRedisStore(quietCluster)).not.toThrow();
  });

  it("validates its options", () => {
    const client = newClient();
    expect(() => createRedisStore(client, { prefix: "a{b}" })).toThrow(/prefix/);
    expect(() => createRedisStore(client, { prefix: "" })).toThrow(/prefix/);
    expect(() => createRedisStore(client, { prefix: "tenant\na:" })).toThrow(/prefix.*control characters/);
    expect(() => createRedisStore(client, { commandTimeoutMs: 0 })).toThrow(/commandTimeoutMs/);
    expect(() => createRedisStore(client, { settleGraceMs: -1 })).toThrow(/settleGraceMs/);
    expect(() => createRedisStore(client, { ledgerRetentionMs: 1.5 })).toThrow(/ledgerRetentionMs/);
    expect(() => createRedisStore(newClient({ keyPrefix: "app{1}:" }))).toThrow(/keyPrefix/);
    expect(() => createRedisStore(client, { settleGraceMs: 0, commandTimeoutMs: 50 })).not.toThrow();
  });

  it("rejects after commandTimeoutMs when Redis does not answer, and at once when the client has ended", async () => {
    const silent = createServer((socket: Socket) => socket.on("data", () => undefined));
    servers.push(silent);
    silent.listen(0, "127.0.0.1");
    await once(silent, "listening");
    const address = silent.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    const client = newClient({ host: "127.0.0.1", port: address.port, retryStrategy: () => null });
    const store = createRedisStore(client, { commandTimeoutMs: 100 });
    const startedAt = Date.now();
    await expect(store.admit(request([]))).rejects.toThrow(/within 100 ms \(commandTimeoutMs\)/);
    expect(Date.now() - startedAt).toBeLessThan(1_000);

    const ended = newClient();
    ended.disconnect();
    await expect(createRedisStore(ended).admit(request([]))).rejects.toThrow(/was not sent/);
  });
});

describe.runIf(verdict === "run")("Redis store", () => {
  describeStoreContract("redis", {
    createStore: () => createRedisStore(newClient(), { prefix: newPrefix() }),
  });

  it("sends one command per admission and per settle, however many limits and block keys", async () => {
    const client = newClient();
    const store = createRedisStore(client, { prefix: newPrefix() });
    const charges = [
      sliding("one-trip-a", 1, 1_000),
      sliding("one-trip-b", 5, 1_000),
      fixedCharge("one-trip-c", 1, 1_000, Date.now() + 3_600_000),
      concurrencyCharge("one-trip-d", 1_000),
    ];
    const blockKeys = ["block|global", "block|user:u1", "block|tenant:t1"];
    // The first use of each script on a connection sends it whole (EVAL); later calls send its hash (EVALSHA).
    const warmUp = randomUUID();
    await store.admit({ ...request(charges, blockKeys), reservationId: warmUp });
    await store.settle({ reservationId: warmUp, amounts: [1, 1, 1, 1] });
    const sent = await commandsSentBy(client, async () => {
      for (let call = 0; call < 20; call++) {
        const reservationId = randomUUID();
        const result = await store.admit({ ...request(charges, blockKeys), reservationId });
        expect(result.admitted).toBe(true);
        await store.settle({ reservationId, amounts: [1, 3, 1, 1] });
      }
    });
    expect(sent).toEqual(Array.from({ length: 40 }, () => "evalsha"));
  });

  it("charges a replayed admission once: while it is open, after its settlement, and after a release sent first", async () => {
    // ioredis re-sends commands left unanswered by a dropped connection once it reconnects, and a Cluster client
    // re-sends after a failover: the same admission can reach Redis twice, or after the guard has released it.
    const store = createRedisStore(newClient(), { prefix: newPrefix() });
    const charges = [
      sliding("replay-rpm", 1, 10),
      fixedCharge("replay-day", 5, 100, Date.now() + 3_600_000),
      concurrencyCharge("replay-parallel", 10),
    ];
    const used = async () => {
      const probe = await store.admit({ ...request(charges), dryRun: true });
      if (!probe.admitted) throw new Error("the probe was refused");
      return probe.usedAfter.map((value, index) => value - (charges[index]?.amount ?? 0));
    };
    const open = request(charges);
    expect(await store.admit(open)).toMatchObject({ admitted: true, usedAfter: [1, 5, 1] });
    expect(await store.admit(open)).toMatchObject({ admitted: true, usedAfter: [1, 5, 1] });
    expect(await used()).toEqual([1, 5, 1]);
    await store.settle({ reservationId: open.reservationId, amounts: [1, 3, 1] });
    expect(await used()).toEqual([1, 3, 0]);
    await store.admit(open);
    expect(await used()).toEqual([1, 3, 0]);
    const released = request(charges);
    await store.settle({ reservationId: released.reservationId, amounts: [0, 0, 0] });
    await store.admit(released);
    expect(await used()).toEqual([1, 3, 0]);
    // A dry run never takes the replay path, whatever its id.
    await store.settle({ reservationId: "check", amounts: [0, 0, 0] });
    const full = [sliding("replay-rpm", 10, 10)];
    expect(await store.admit({ ...request(full), reservationId: "check", dryRun: true })).toMatchObject({
      admitted: false,
    });
  });

  it("keeps a window's running total equal to its slots, and drops slots that left the window, through refunds and overage", async () => {
    // A window of 4 slots of 50 ms: over ~1.2 s, slots open, leave the window and are recounted many times.
    const prefix = newPrefix();
    const client = newClient();
    await client.connect();
    const store = createRedisStore(client, { prefix });
    const charge: CounterCharge = {
      key: "total",
      amount: 5,
      capacity: 1_000_000,
      enforce: true,
      window: { kind: "sliding", windowMs: 200, slots: 4 },
    };
    const first = randomUUID();
    await store.admit({ ...request([charge]), reservationId: first });
    await store.settle({ reservationId: first, amounts: [5] });
    const key = `{${prefix}}window:50:total`;
    expect(await scanKeys(client, `{${prefix}}window:*`)).toEqual([key]);
    const started = Date.now();
    let admissions = 0;
    while (Date.now() - started < 1_200) {
      const reservationId = randomUUID();
      const result = await store.admit({ ...request([charge]), reservationId });
      expect(result.admitted).toBe(true);
      admissions++;
      const [seconds, micros] = await client.time();
      const currentSlot = Math.floor((Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000)) / 50);
      const hash = await client.hgetall(key);
      const slots = windowSlots(hash);
      // The total the script reads is the sum of the slot fields, and no field is below `o`.
      expect(Number(hash.t)).toBe(slots.reduce((total, [, amount]) => total + amount, 0));
      for (const [slot] of slots) expect(slot).toBeGreaterThanOrEqual(Number(hash.o));
      // Right after an admission, every slot the hash holds is in the window (a stale one was dropped).
      expect(Number(hash.o)).toBeGreaterThanOrEqual(currentSlot - 4 - 1);
      // Settle with a refund (0), the reserved amount, an overage (9) or a refund after a wait, in turn.
      const amount = [0, 5, 9, 2][admissions % 4] ?? 0;
      if (admissions % 7 === 0) await new Promise((resolve) => setTimeout(resolve, 60));
      await store.settle({ reservationId, amounts: [amount] });
    }
    expect(admissions).toBeGreaterThan(20);
    const hash = await client.hgetall(key);
    expect(Number(hash.t)).toBe(windowSlots(hash).reduce((total, [, amount]) => total + amount, 0));
  });

  it("recounts a window hash that lost its running total instead of reading it as empty", async () => {
    const prefix = newPrefix();
    const client = newClient();
    await client.connect();
    const store = createRedisStore(client, { prefix });
    const charge = sliding("lost-total", 5, 100);
    for (let call = 0; call < 3; call++) expect((await store.admit(request([charge]))).admitted).toBe(true);
    const [key = ""] = await scanKeys(client, `{${prefix}}window:*`);
    expect(await client.hget(key, "t")).toBe("15");
    await client.hdel(key, "t");
    expect(await store.admit({ ...request([charge]), dryRun: true })).toMatchObject({
      admitted: true,
      usedAfter: [20],
    });
    expect(await client.hget(key, "t")).toBe("15");
  });

  it("refuses a counter key with a newline before sending anything (the reservation record lists keys by line)", async () => {
    const store = createRedisStore(newClient(), { prefix: newPrefix() });
    await expect(store.admit(request([sliding("ok", 1, 10), sliding("bad\nkey", 1, 10)]))).rejects.toThrow(
      /charges\[1\]\.key must not contain a newline/,
    );
  });

  it("recovers from SCRIPT FLUSH: EVALSHA gets NOSCRIPT and ioredis re-sends the script once", async () => {
    const client = newClient();
    const store = createRedisStore(client, { prefix: newPrefix() });
    const charge = sliding("flush", 1, 10);
    expect(await store.admit(request([charge]))).toMatchObject({ admitted: true, usedAfter: [1] });
    const admin = newClient();
    await admin.connect();
    await admin.script("FLUSH");
    const sent = await commandsSentBy(client, async () => {
      expect(await store.admit(request([charge]))).toMatchObject({ admitted: true, usedAfter: [2] });
    });
    expect(sent).toEqual(["evalsha", "eval"]);
    expect(await store.admit(request([charge]))).toMatchObject({ admitted: true, usedAfter: [3] });
  });

  it("leaves no key without a TTL, and every key carries the store's hash tag", async () => {
    const prefix = newPrefix();
    const client = newClient();
    const store = createRedisStore(client, { prefix });
    const now = Date.now();
    const settled = randomUUID();
    const unsettled = randomUUID();
    const late = randomUUID();
    const charges = [
      sliding("ttl-sliding", 2, 100),
      fixedCharge("ttl-fixed", 3, 100, now + 3_600_000),
      concurrencyCharge("ttl-slot", 10),
    ];
    await store.admit({ ...request(charges, ["block|global"]), reservationId: settled });
    await store.settle({ reservationId: settled, amounts: [1, 1, 1] });
    await store.admit({ ...request(charges), reservationId: unsettled });
    expect(await store.extendLease(unsettled, 120_000)).toBe(true);
    await store.admit({ ...request(charges), dryRun: true });
    // Late settles must not recreate expired counters without a TTL.
    const shortCharges = [
      { ...sliding("ttl-short-sliding", 5, 100), window: { kind: "sliding", windowMs: 200, slots: 2 } as const },
      fixedCharge("ttl-short-fixed", 5, 100, now + 200),
    ];
    await store.admit({ ...request(shortCharges), reservationId: late });
    await sleep(450);
    await store.settle({ reservationId: late, amounts: [1, 1] });
    await store.record(usageRecord({ time: now }));
    expect(await store.markOnce("alert|u1", 60_000)).toBe(true);
    await store.block({ key: "block|user:u2", reason: "abuse", until: now + 60_000, createdAt: now });
    await store.block({ key: "block|user:u3", reason: undefined, until: undefined, createdAt: now });
    await store.unblock("block|user:u3");
    expect(await store.listBlocked()).toHaveLength(1);
    expect(await store.queryUsage({ groupBy: ["user"] })).toHaveLength(1);

    const keys = await scanKeys(client, `{${prefix}}*`);
    const kinds = new Set(keys.map((key) => key.slice(`{${prefix}}`.length).split(":")[0]));
    expect([...kinds].sort()).toEqual(
      [
        "blocks",
        "block",
        "fixed",
        "inflight",
        "once",
        "reservation",
        "window",
        "usage",
        "usage-days",
        "usage-index",
      ].sort(),
    );
    for (const key of keys) {
      expect(key.startsWith(`{${prefix}}`)).toBe(true);
      expect(await client.pttl(key), key).toBeGreaterThan(0);
    }
  });
});

function request(charges: CounterCharge[], blockKeys: string[] = []): AdmitRequest {
  return { reservationId: randomUUID(), charges, blockKeys, leaseMs: 60_000 };
}

function sliding(key: string, amount: number, capacity: number): CounterCharge {
  return { key, amount, capacity, enforce: true, window: { kind: "sliding", windowMs: 60_000, slots: 10 } };
}

function fixedCharge(key: string, amount: number, capacity: number, endsAt: number): CounterCharge {
  return { key, amount, capacity, enforce: true, window: { kind: "fixed", endsAt } };
}

function concurrencyCharge(key: string, capacity: number): CounterCharge {
  return { key, amount: 1, capacity, enforce: true, window: { kind: "concurrency" } };
}

/** The command names Redis received from `client`'s connection while `run` ran, as seen by MONITOR. */
async function commandsSentBy(client: Redis, run: () => Promise<void>): Promise<string[]> {
  const source = `${client.stream.localAddress}:${client.stream.localPort}`;
  const monitor = await newClient().monitor();
  clients.push(monitor);
  const marker = `tollgate-monitor-end-${randomUUID()}`;
  const seen: string[] = [];
  const ended = new Promise<void>((resolve) => {
    monitor.on("monitor", (_time: string, args: string[], from: string) => {
      if (from !== source) return;
      if (args[0]?.toLowerCase() === "echo" && args[1] === marker) resolve();
      else seen.push(String(args[0]).toLowerCase());
    });
  });
  try {
    await run();
    await client.echo(marker);
    await ended;
    return seen;
  } finally {
    monitor.disconnect();
  }
}

async function scanKeys(client: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await client.scan(cursor, "MATCH", pattern, "COUNT", 1_000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== "0");
  return keys;
}

async function unusedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
