import { randomUUID } from "node:crypto";
import type { AdmitRequest, CounterCharge } from "@tollgate/core";
import { type FakeProviders, startFakeProviders } from "@tollgate/testing";
import { describeStoreContract } from "@tollgate/testing/store-contract";
import { Cluster, type Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisStore } from "../src/index";
import { expectExactRequests, expectUsdWorstCaseWithinLimit, keysMatching } from "./guarded-call-checks";
import type { RedisConnection } from "./redis-availability";
import { directClient, findClusterBinaries, type RedisClusterNodes, startRedisCluster } from "./redis-cluster";
import { usageRecord } from "./store-fixtures";
import { startWorkers, type WorkerPool } from "./worker-pool";

// A real 3-primary Redis Cluster on loopback, started for this file. Without `redis-server` this file skips with a
// notice, except in CI (CI=true), where that is a failure.
const binaries = findClusterBinaries();
const verdict = binaries.found ? "run" : process.env.CI === "true" ? "fail" : "skip";
if (!binaries.found && verdict === "skip") {
  console.warn(
    `Skipping the Redis Cluster tests: ${binaries.reason}. Install redis-server and redis-cli to run them; in CI (CI=true) this fails instead.`,
  );
}

const runId = randomUUID();
const newPrefix = () => `tollgate-cluster-test:${runId}:${randomUUID()}:`;
let cluster: RedisClusterNodes | undefined;
let shared: Cluster | undefined;
let fake: FakeProviders | undefined;
let workers: WorkerPool | undefined;
const clients: (Cluster | Redis)[] = [];

/** A Cluster client with the options the README asks for; lazy, so the store's first command connects it. */
function newClusterClient(): Cluster {
  if (cluster === undefined) throw new Error("the cluster is not running");
  const client = new Cluster(cluster.nodes, { enableOfflineQueue: false, retryDelayOnFailover: 0, lazyConnect: true });
  client.on("error", () => undefined);
  clients.push(client);
  return client;
}

function sharedClient(): Cluster {
  if (shared === undefined) throw new Error("beforeAll did not run");
  return shared;
}

describe("Redis Cluster availability", () => {
  it.runIf(verdict === "fail")("finds redis-server and redis-cli to start a cluster (required in CI)", () => {
    throw new Error(`CI=true but no Redis Cluster can be started: ${binaries.found ? "" : binaries.reason}`);
  });
});

describe.runIf(verdict === "run")("Redis store on a 3-node Redis Cluster", () => {
  beforeAll(async () => {
    cluster = await startRedisCluster();
    shared = newClusterClient();
    await shared.connect();
  }, 60_000);

  afterAll(async () => {
    await workers?.close();
    await fake?.close();
    for (const client of clients) client.disconnect();
    await cluster?.stop();
  });

  describeStoreContract("redis cluster", {
    createStore: () => createRedisStore(sharedClient(), { prefix: newPrefix() }),
  });

  it("keeps every key of a store in its prefix's one slot, and different prefixes spread over the nodes", async () => {
    const prefix = newPrefix();
    const store = createRedisStore(sharedClient(), { prefix });
    const now = Date.now();
    const reservationId = randomUUID();
    await store.admit({
      ...admission([sliding("layout-a", 1, 10), fixed("layout-b", 2, 10, now + 3_600_000), concurrency("layout-c")]),
      reservationId,
      blockKeys: ["block|global", "block|user:u1"],
    });
    await store.admit(admission([concurrency("layout-c")]));
    await store.settle({ reservationId, amounts: [1, 1, 0] });
    await store.record(usageRecord({ time: now }));
    await store.block({ key: "block|user:u2", reason: "abuse", until: now + 60_000, createdAt: now });
    expect(await store.markOnce("alert|u1", 60_000)).toBe(true);
    expect(await store.listBlocked()).toHaveLength(1);
    expect(await store.queryUsage({ groupBy: ["user"] })).toHaveLength(1);

    const keys = await keysMatching(sharedClient(), `{${prefix}}*`);
    // sliding, fixed, inflight, reservation (the open one and the settled one's tombstone), block, blocks, once,
    // usage, usage-index, usage-days
    expect(keys).toHaveLength(11);
    const slot = await keySlot(`{${prefix}}`);
    for (const key of keys) expect(await keySlot(key), key).toBe(slot);
    const owner = await slotOwner(slot);
    const onOwner = await nodeClient(owner);
    expect(Number(await onOwner.cluster("COUNTKEYSINSLOT", slot))).toBe(keys.length);

    const owners = new Set<number>();
    for (let index = 0; index < 30; index++) owners.add((await slotOwner(await keySlot(`{${newPrefix()}}`))).port);
    expect(owners.size).toBeGreaterThan(1);
  });

  it("connects a lazy Cluster client on the first command", async () => {
    const store = createRedisStore(newClusterClient(), { prefix: newPrefix(), commandTimeoutMs: 10_000 });
    expect(await store.admit(admission([sliding("lazy", 1, 10)]))).toMatchObject({ admitted: true, usedAfter: [1] });
  });

  it("takes a burst of admissions on a ready Cluster client whose connections to the primaries are still opening", async () => {
    // ioredis opens a primary's connection on first use and, with the offline queue off, rejects what is sent to it
    // meanwhile ("Connection is closed."); the store waits for those connections instead.
    const client = newClusterClient();
    await client.connect();
    const opening = client.nodes("master").filter((node) => node.status !== "ready");
    expect(opening.length).toBeGreaterThan(0);
    // A prefix whose slot is served by a primary this client has not connected to yet.
    const openingPorts = new Set(opening.map((node) => node.options.port));
    let prefix = newPrefix();
    while (!openingPorts.has((await slotOwner(await keySlot(`{${prefix}}`))).port)) prefix = newPrefix();
    const store = createRedisStore(client, { prefix, commandTimeoutMs: 10_000 });
    const charge = sliding("burst", 1, 100);
    const results = await Promise.allSettled(Array.from({ length: 150 }, () => store.admit(admission([charge]))));
    expect(results.flatMap((result) => (result.status === "rejected" ? [String(result.reason)] : []))).toEqual([]);
    expect(results.filter((result) => result.status === "fulfilled" && result.value.admitted)).toHaveLength(100);
    expect(client.listenerCount("ready")).toBe(0);
    for (const node of client.nodes("master")) expect(node.listenerCount("ready")).toBe(0);
  });

  describe("guarded calls from 4 processes, each with its own Cluster client", () => {
    beforeAll(async () => {
      fake = await startFakeProviders();
      workers = await startWorkers(4, { cluster: cluster?.nodes ?? [] }, fake.openaiBaseURL);
    }, 60_000);

    const context = () => {
      if (workers === undefined || fake === undefined) throw new Error("beforeAll did not run");
      return { workers, fake, redis: sharedClient() };
    };

    it("4 processes × 250 concurrent guarded calls against a usd limit: the admitted worst case never exceeds it", async () => {
      await expectUsdWorstCaseWithinLimit(context(), newPrefix());
    }, 90_000);

    // The multi-process `requests` check, run while unrelated scripts keep the primary of the store's slot busy too.
    it("4 processes × 250 concurrent guarded calls against requests: 400 admit exactly 400 and lose no update while the node owning the store's slot is the busiest", async () => {
      const prefix = newPrefix();
      const owner = await slotOwner(await keySlot(`{${prefix}}`));
      const nodes = cluster?.nodes ?? [];
      const before = await Promise.all(nodes.map(commandsProcessed));
      const load = await startUnrelatedLoad(owner, await keySlot(`{${prefix}}`));
      try {
        await expectExactRequests(context(), prefix);
      } finally {
        await load.stop();
      }
      const processed = (await Promise.all(nodes.map(commandsProcessed))).map(
        (count, index) => count - (before[index] ?? 0),
      );
      const ownerIndex = nodes.findIndex((node) => node.port === owner.port);
      const busiest = Math.max(...processed);
      expect(processed[ownerIndex], `commands processed per node: ${processed.join(", ")}`).toBe(busiest);
      expect(processed.filter((count) => count === busiest)).toHaveLength(1);
      // The unrelated load itself: every increment it was told succeeded is there.
      expect(await load.total()).toBe(load.applied);
      expect(load.applied).toBeGreaterThan(0);
    }, 90_000);
  });

  it("never answered CROSSSLOT, MOVED or any other error to a command, on any node", async () => {
    const problems: string[] = [];
    for (const node of cluster?.nodes ?? []) {
      const client = await nodeClient(node);
      // Error replies by type. `ERR` is left out here: Redis before 7.2 answers ioredis' CLIENT SETINFO (sent on each
      // connect) with one, and counts it nowhere else; any other ERR shows in the command statistics below.
      for (const line of (await client.info("errorstats")).split("\n")) {
        const match = /^errorstat_([^:]+):count=(\d+)/.exec(line.trim());
        if (match !== null && match[1] !== "ERR") problems.push(`${node.port}: ${match[1]} × ${match[2]}`);
      }
      // Per command: rejected before running (CROSSSLOT, MOVED, wrong arguments) or failed while running (a script's
      // error, e.g. a key of another slot).
      for (const line of (await client.info("commandstats")).split("\n")) {
        const match = /^cmdstat_([^:]+):.*rejected_calls=(\d+),failed_calls=(\d+)/.exec(line.trim());
        if (match !== null && (match[2] !== "0" || match[3] !== "0")) {
          problems.push(`${node.port}: ${match[1]} rejected ${match[2]}, failed ${match[3]}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});

function admission(charges: CounterCharge[]): AdmitRequest {
  return { reservationId: randomUUID(), charges, blockKeys: [], leaseMs: 60_000 };
}

function sliding(key: string, amount: number, capacity: number): CounterCharge {
  return { key, amount, capacity, enforce: true, window: { kind: "sliding", windowMs: 60_000, slots: 10 } };
}

function fixed(key: string, amount: number, capacity: number, endsAt: number): CounterCharge {
  return { key, amount, capacity, enforce: true, window: { kind: "fixed", endsAt } };
}

function concurrency(key: string): CounterCharge {
  return { key, amount: 1, capacity: 5, enforce: true, window: { kind: "concurrency" } };
}

/** A connected plain client of one node, closed after the file. */
async function nodeClient(node: RedisConnection): Promise<Redis> {
  const client = directClient(node);
  clients.push(client);
  await client.connect();
  return client;
}

async function keySlot(key: string): Promise<number> {
  return Number(await sharedClient().cluster("KEYSLOT", key));
}

/** The primary serving `slot`, from `CLUSTER SLOTS`. */
async function slotOwner(slot: number): Promise<RedisConnection> {
  const ranges = await sharedClient().cluster("SLOTS");
  const primary = ranges.find(([first, last]) => first <= slot && slot <= last)?.[2];
  if (primary === undefined) throw new Error(`no node serves slot ${slot}`);
  return { host: primary[0], port: Number(primary[1]) };
}

async function commandsProcessed(node: RedisConnection): Promise<number> {
  const info = await (await nodeClient(node)).info("stats");
  const match = /total_commands_processed:(\d+)/.exec(info);
  if (match === null) throw new Error(`no total_commands_processed from ${node.port}`);
  return Number(match[1]);
}

interface UnrelatedLoad {
  /** Increments the load was told succeeded. */
  readonly applied: number;
  stop(): Promise<void>;
  /** The sum of the load's counters as the node has them. */
  total(): Promise<number>;
}

/**
 * Keeps `node` busy with scripts on keys of its own other slots (not the store's): each script increments one counter
 * many times in a loop, so admissions queue behind it on the node.
 */
async function startUnrelatedLoad(node: RedisConnection, storeSlot: number): Promise<UnrelatedLoad> {
  const client = await nodeClient(node);
  const keys: string[] = [];
  for (let index = 0; keys.length < 8; index++) {
    const key = `tollgate-cluster-load:${runId}:${index}`;
    const slot = await keySlot(key);
    if (slot !== storeSlot && (await slotOwner(slot)).port === node.port) keys.push(key);
  }
  const incrementsPerScript = 2_000;
  const script = "for i = 1, tonumber(ARGV[1]) do redis.call('INCR', KEYS[1]) end return 1";
  let stopped = false;
  let applied = 0;
  const loops = keys.map(async (key) => {
    while (!stopped) {
      await client.eval(script, 1, key, incrementsPerScript);
      applied += incrementsPerScript;
    }
  });
  return {
    get applied() {
      return applied;
    },
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
    async total() {
      const values = await Promise.all(keys.map((key) => client.get(key)));
      return values.reduce((sum, value) => sum + Number(value ?? 0), 0);
    },
  };
}
