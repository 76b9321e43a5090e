import { randomUUID } from "node:crypto";
import { createRedisStore } from "@tollgate/redis";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probeRedis, redisUrl } from "./service-probes";
import { answersAtBlockEnd } from "./store-model/block-end-probe";
import { admit, block } from "./store-model/commands";
import { assertStoreFollowsModel, propertyTimeoutMs, replay, setupTimeoutMs } from "./store-model/model-property";
import { machineClock, type SystemUnderTest } from "./store-model/system-under-test";
import { realTimeScale } from "./store-model/time-scale";

const probe = await probeRedis();
/** Every key of this file is under this prefix (the store's hash tag); all are deleted at the end. */
const prefix = `tollgate-model:${randomUUID()}`;
let redis: Redis | undefined;

beforeAll(async () => {
  if (!probe.reachable) return;
  redis = new Redis(redisUrl, { enableOfflineQueue: false, lazyConnect: true });
  await redis.connect();
}, setupTimeoutMs);

afterAll(async () => {
  if (redis === undefined) return;
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `{${prefix}}*`, "COUNT", 500);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== "0");
  await redis.quit();
});

let runs = 0;
/** One store on the file's prefix; each run keeps to keys, block keys and reservation ids of its own. */
function redisSystem(): SystemUnderTest {
  if (redis === undefined) throw new Error("Redis is not connected");
  return {
    store: createRedisStore(redis, { prefix }),
    clock: machineClock,
    scale: realTimeScale,
    namespace: `run-${runs++}:`,
  };
}

describe.runIf(probe.reachable)("Redis store against the reference model", () => {
  it(
    "answers every random sequence of admissions, settlements, leases, blocks and sleeps like the model",
    async () => {
      await assertStoreFollowsModel(redisSystem, {
        scale: realTimeScale,
        commands: { sweeps: false },
        runs: 30,
        maxCommands: 25,
        timeLimitMs: 40_000,
      });
    },
    propertyTimeoutMs,
  );
});

describe.runIf(probe.reachable)("Redis store: counterexamples kept from the model runs", () => {
  // Shrunk from a model run (by fast-check, then by hand): an admission in the very millisecond of a block's `until`
  // was refused as blocked, while the memory and Postgres stores admit it. Redis still returns a key at exactly its
  // PXAT time; fixed in admit-script.ts, which now compares `until` with the script's clock. The replay reaches that
  // millisecond only when the admission follows the block quickly enough, so the next test forces it.
  it("replays the shrunk sequence: a block of 1 ms, then an admission", async () => {
    for (let repeat = 0; repeat < 20; repeat++) {
      await replay(redisSystem(), [
        block({ key: "global", forMs: 1 }),
        admit({ charges: [{ key: "rate-a", amount: 2, capacity: 5 }], leaseMs: 1, blockKeys: ["global", "user-a"] }),
      ]);
    }
  });

  it("admits in the very millisecond a block ends", async () => {
    const system = redisSystem();
    const answers = await answersAtBlockEnd(system.store, system.namespace);
    expect(answers.length).toBeGreaterThan(0);
    for (const answer of answers) expect(answer.admitted).toBe(true);
  });
});

describe.runIf(!probe.reachable && !probe.skip)("Redis (required in CI)", () => {
  it("is reachable", () => {
    probe.assertReachable();
  });
});
