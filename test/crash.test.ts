import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { guardedClient, type TollgateStore } from "@tollgate/core";
import { createPostgresStore, migrate } from "@tollgate/postgres";
import { createRedisStore } from "@tollgate/redis";
import { type FakeProviders, startFakeProviders } from "@tollgate/testing";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Amounts, crashReference, undecidedCalls } from "./crash-reference";
import { type CrashLine, crashLeaseMs, crashLimits, parseCrashLines } from "./crash-setup";
import { pollUntil, sleep } from "./fault-measures";
import { usedNow } from "./limit-usage";
import {
  databaseUrl,
  deleteRedisPrefix,
  probePostgres,
  probeRedis,
  redisUrl,
  type ServiceProbe,
  uniqueSchema,
} from "./service-probes";

// App processes killed with SIGKILL at random moments while their guarded calls are between admission and
// settlement, under load, on Redis and on Postgres. Afterwards: no concurrency slot is held past its lease, every
// call a process reported settled is in the ledger, and the counters equal what the dead processes admitted —
// settled calls at their true amounts, unsettled ones at their reservation (the provider may have billed them).
//
// What can be asserted exactly: a process killed mid-call cannot say everything it did. A call whose settlement was
// applied but not yet reported, or whose admission was applied but not yet answered, is known to be in one of two
// states; for those the counters must lie between the two, and are exact when there are none (the common case).

interface StoreUnderTest {
  probe: ServiceProbe;
  children: number;
  loops: number;
  userParallel: number;
  /** Environment a child needs to open the store, and the parent's own handle on it. */
  open(): Promise<{ env: Record<string, string>; store: TollgateStore; close(): Promise<void> }>;
}

const stores: Record<"redis" | "postgres", StoreUnderTest> = {
  redis: {
    probe: await probeRedis(),
    children: 3,
    loops: 16,
    userParallel: 12,
    async open() {
      const prefix = `tollgate-crash:${randomUUID()}`;
      const redis = new Redis(redisUrl, { enableOfflineQueue: false, lazyConnect: true });
      await redis.connect();
      return {
        env: { CRASH_STORE: "redis", CRASH_REDIS_URL: redisUrl, CRASH_REDIS_PREFIX: prefix },
        store: createRedisStore(redis, { prefix }),
        async close() {
          redis.disconnect();
          await deleteRedisPrefix(prefix);
        },
      };
    },
  },
  postgres: {
    probe: await probePostgres(),
    // Postgres admits calls on shared counters one after the other (row locks, a WAL flush per commit): fewer loops
    // keep a loaded 2-core machine within the children's store timeout.
    children: 3,
    loops: 8,
    userParallel: 6,
    async open() {
      const schema = uniqueSchema("crash");
      const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
      pool.on("error", () => undefined);
      await migrate(pool, { schema });
      return {
        env: { CRASH_STORE: "postgres", CRASH_DATABASE_URL: databaseUrl, CRASH_PG_SCHEMA: schema },
        store: createPostgresStore(pool, { schema, sweepIntervalMs: 0 }),
        async close() {
          await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          await pool.end();
        },
      };
    },
  },
};

const measured: string[] = [];
let fake: FakeProviders;
const running = new Set<ChildProcess>();

beforeAll(async () => {
  fake = await startFakeProviders();
});
afterAll(async () => {
  for (const child of running) child.kill("SIGKILL");
  await fake?.close();
  if (measured.length > 0) console.log(`Crash tests, measured:\n${measured.map((line) => `- ${line}`).join("\n")}`);
});

interface CrashChild {
  name: string;
  process: ChildProcess;
  output: () => string;
  ready: Promise<void>;
  exited: Promise<NodeJS.Signals | null>;
}

function startChild(name: string, env: Record<string, string>): CrashChild {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "--conditions=source", fileURLToPath(new URL("./crash-child.ts", import.meta.url))],
    {
      cwd: fileURLToPath(new URL(".", import.meta.url)),
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  running.add(child);
  let stdout = "";
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exit = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  const exited = exit.then(([, signal]) => {
    running.delete(child);
    return signal;
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('{"kind":"ready"}\n')) resolve();
    });
    void exit.then(([code]) =>
      reject(new Error(`crash child ${name} exited (${code}) before it was ready: ${stderr}`)),
    );
  });
  ready.catch(() => undefined);
  return { name, process: child, output: () => stdout, ready, exited };
}

const format = (amounts: Amounts) =>
  `${amounts.requests} requests, ${amounts.tokens} tokens, ${(amounts.usd / 1e9).toFixed(6)} USD`;

for (const kind of ["redis", "postgres"] as const) {
  const setup = stores[kind];
  describe.skipIf(setup.probe.skip)(`processes killed mid-call on ${kind}`, () => {
    it("free their concurrency slots after the lease, keep every settled call in the ledger, and leave the counters at the reference", async () => {
      setup.probe.assertReachable();
      const opened = await setup.open();
      try {
        const limits = crashLimits(setup.userParallel);
        const reader = guardedClient({ providers: {}, limits, store: opened.store });
        const providerLogFrom = fake.requests.length; // the other store's run used the same fake
        const children = Array.from({ length: setup.children }, (_, index) =>
          startChild(String(index), {
            ...opened.env,
            CRASH_CHILD: String(index),
            CRASH_LOOPS: String(setup.loops),
            CRASH_USER_PARALLEL: String(setup.userParallel),
            CRASH_OPENAI_URL: fake.openaiBaseURL,
          }),
        );
        await Promise.all(children.map((child) => child.ready));

        // Each process dies at its own random moment, 2–4.5 s into its run, with dozens of calls in flight.
        const killedAt = new Map<string, number>();
        await Promise.all(
          children.map(async (child) => {
            await sleep(2_000 + Math.random() * 2_500);
            killedAt.set(child.name, performance.now());
            child.process.kill("SIGKILL");
            expect(await child.exited).toBe("SIGKILL");
          }),
        );
        const lastKillAt = Math.max(...killedAt.values());
        await fake.waitForIdle(); // the provider has seen every connection of the dead processes close

        // (a) Right after the kills, the slots of calls that were surely unsettled are still held…
        const heldAtKill = (await usedNow(reader, {}, limits)).parallel ?? 0;
        const readAt = performance.now();
        // …and all of them are free once the lease has run out: within leaseMs of the last renewal (every leaseMs / 2).
        const freed = await pollUntil(
          async () => (await usedNow(reader, {}, limits)).parallel,
          (inFlight) => inFlight === 0,
          crashLeaseMs + 10_000,
        );
        const freedAfterKillMs = freed.afterMs + (readAt - lastKillAt);
        for (const child of children) {
          expect((await usedNow(reader, { user: `crash-child-${child.name}` }, limits))["user-parallel"]).toBe(0);
        }

        // (b) and (c): the reference, from what the children printed, the provider saw, and the ledger holds; for the
        // few calls a dead process could not report on, what the store holds for that call alone.
        const lines = new Map<string, CrashLine[]>(
          children.map((child) => [child.name, parseCrashLines(child.output())]),
        );
        const providerLog = fake.requests.slice(providerLogFrom);
        const ledgerRows = await opened.store.queryUsage({ groupBy: ["key"] });
        const undecided = new Map<string, Amounts>();
        for (const call of undecidedCalls(lines, providerLog, ledgerRows)) {
          const used = await usedNow(reader, { key: call }, limits);
          undecided.set(call, {
            requests: used["call-requests"] ?? -1,
            tokens: used["call-tokens"] ?? -1,
            usd: used["call-usd"] ?? -1,
          });
        }
        const reference = crashReference(lines, providerLog, ledgerRows, undecided);
        const counters = await usedNow(reader, {}, limits);
        const actual: Amounts = {
          requests: counters.requests ?? -1,
          tokens: counters.tokens ?? -1,
          usd: counters.usd ?? -1,
        };

        expect(reference.violations.slice(0, 5).join("\n")).toBe("");
        // Enough happened for the test to mean something: calls settled, and calls caught mid-flight by the kills.
        expect(reference.reportedSettled).toBeGreaterThan(5);
        expect(reference.fates.held).toBeGreaterThan(0);
        expect(actual).toEqual(reference.expected);
        // Slots the store must still hold right after the kills: the surely unsettled calls of every process whose
        // leases cannot have run out yet. A lease is renewed every leaseMs / 2, so it has at least that much left at
        // the kill; a process killed less than leaseMs / 4 before the read leaves room for renewals late by load.
        const mustStillHold = children
          .filter((child) => readAt - killedAt.get(child.name)! < crashLeaseMs / 4)
          .reduce((sum, child) => sum + (reference.heldByChild.get(child.name) ?? 0), 0);
        expect(heldAtKill).toBeGreaterThanOrEqual(mustStillHold);
        expect(freedAfterKillMs).toBeLessThan(crashLeaseMs + 5_000);

        const ledgered = reference.fates.ledgered;
        measured.push(
          `${kind}: ${setup.children} processes × ${setup.loops} call loops killed with SIGKILL 2–4.5 s into their run: ` +
            `${Object.values(reference.fates).reduce((sum, count) => sum + count, 0)} calls started, ${reference.fates.refused} refused (concurrency), ` +
            `${reference.reportedSettled} reported settled, all ${reference.reportedSettled} in the ledger (+${ledgered - reference.reportedSettled} settled after their last line); ` +
            `${reference.fates.held} caught between admission and settlement (kept their reservation), ${reference.fates.settling} around settlement (${reference.settledAroundKill} of them settled), ${reference.fates.admitting} during admission (${reference.admittedAroundKill} of them admitted); ` +
            `${heldAtKill} concurrency slots held ${Math.round(readAt - lastKillAt)} ms after the last kill, 0 after ${(freedAfterKillMs / 1000).toFixed(1)} s (leaseMs ${crashLeaseMs}); ` +
            `counters ${format(actual)} = the reference`,
        );
      } finally {
        for (const child of running) child.kill("SIGKILL");
        await opened.close();
      }
    }, 90_000);
  });
}
