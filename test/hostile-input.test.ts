import { randomUUID } from "node:crypto";
import { ConfigurationError, guardedClient, LimitExceededError } from "@tollgate/core";
import { createPostgresStore, migrate } from "@tollgate/postgres";
import { createRedisStore } from "@tollgate/redis";
import { type FakeProviders, startFakeProviders } from "@tollgate/testing";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createClients } from "./clients";
import { databaseUrl, probePostgres, uniqueSchema } from "./service-probes";

let fake: FakeProviders;
beforeAll(async () => {
  fake = await startFakeProviders();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const chat = (content: string) => ({
  model: "gpt-4o-mini",
  max_tokens: 5,
  messages: [{ role: "user" as const, content }],
});

describe("hostile subjects cannot reach another subject's counters", () => {
  const lookalikes = [
    "alice", // the victim
    "alice:", // separator injection
    "alice|rpm|user:alice",
    "{alice}",
    "alice*",
    "alice\n",
    "аlice", // Cyrillic а
    "alice\u200b", // zero-width space
    "ALICE",
    "x".repeat(10_240),
  ];

  it("every look-alike has its own budget", async () => {
    const guard = guardedClient({
      providers: { openai: createClients(fake).openai },
      loopDetection: false,
      limits: [{ id: "rpm", scope: "user", requests: 1, per: "1m" }],
    });
    for (const user of lookalikes) {
      await guard.for({ user }).openai.chat.completions.create(chat(user.slice(0, 20)));
    }
    // Each look-alike used its own single request; none was refused by another's count.
    expect(fake.requests).toHaveLength(lookalikes.length);
    await expect(guard.for({ user: "alice" }).openai.chat.completions.create(chat("again"))).rejects.toBeInstanceOf(
      LimitExceededError,
    );
  });

  it("a 10 KB or hostile subject value never reaches a store key: keys stay short and opaque", async () => {
    const prefix = `tollgate-hostile:${randomUUID()}`;
    const redis = new Redis({ host: "127.0.0.1", port: 6379, enableOfflineQueue: false });
    try {
      const guard = guardedClient({
        providers: { openai: createClients(fake).openai },
        store: createRedisStore(redis, { prefix }),
        limits: [
          { id: "rpm", scope: "user", requests: 10, per: "1m" },
          { id: "daily", scope: "user", tokens: 10_000, period: "day" },
        ],
      });
      for (const user of lookalikes) await guard.for({ user }).openai.chat.completions.create(chat("hi"));
      await guard.close();
      const keys: string[] = [];
      let cursor = "0";
      do {
        const [next, batch] = await redis.scan(cursor, "MATCH", `{${prefix}}*`, "COUNT", 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== "0");
      expect(keys.length).toBeGreaterThan(lookalikes.length);
      expect(Math.max(...keys.map((key) => key.length))).toBeLessThan(300);
      // Counter, reservation and block keys never hold a raw value; the ledger holds short ones, JSON-escaped.
      const counters = keys.filter((key) => !key.startsWith(`{${prefix}}usage`));
      expect(counters.length).toBeGreaterThan(lookalikes.length);
      expect(counters.filter((key) => /xxxxxxxxxx|\n|аlice|\{alice|alice\*|alice:\||alice\|rpm/.test(key))).toEqual([]);
      expect(keys.some((key) => key.includes("xxxxxxxxxx"))).toBe(false);
      await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
  });

  it("a subject value with control characters is recorded under its hash in every ledger, Postgres included", async () => {
    const probe = await probePostgres();
    if (probe.skip) return;
    probe.assertReachable();
    const schema = uniqueSchema("hostile_ledger");
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    try {
      await migrate(pool, { schema });
      // A NUL cannot be stored in Postgres text; an escape sequence must not reach `tollgate usage` on a terminal.
      const users = ["nul\u0000byte", "line\nbreak", "\u001b[31mred", "del\u007f"];
      for (const store of [undefined, createPostgresStore(pool, { schema, sweepIntervalMs: 0 })]) {
        const storeErrors: unknown[] = [];
        const guard = guardedClient({
          providers: { openai: createClients(fake).openai },
          limits: [{ id: "rpm", scope: "user", requests: 10, per: "1m" }],
          ...(store === undefined ? {} : { store }),
          onEvent: (event) => {
            if (event.type === "store.error") storeErrors.push(event.error);
          },
        });
        for (const user of users) await guard.for({ user }).openai.chat.completions.create(chat("hi"));
        await guard.close();
        const rows = await guard.usage({ groupBy: ["user"] });
        expect(storeErrors).toEqual([]);
        expect(rows.map((row) => row.requests)).toEqual([1, 1, 1, 1]);
        for (const row of rows) expect(row.group.user).toMatch(/^~[\w-]{22}$/);
      }
    } finally {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    }
  });

  it("rejects subject values that are not strings, and empty ones", () => {
    const guard = guardedClient({ providers: { openai: createClients(fake).openai } });
    expect(() => guard.for({ user: "" })).toThrow(ConfigurationError);
    expect(() => guard.for({ user: 42 as unknown as string })).toThrow(ConfigurationError);
    expect(() => guard.for({ planet: "x" } as unknown as { user: string })).toThrow(ConfigurationError);
  });
});

describe("huge prompts", () => {
  it("a 10 MB prompt is estimated without blocking the event loop for long, and refused by an input limit", async () => {
    const guard = guardedClient({
      providers: { openai: createClients(fake).openai },
      limits: [{ id: "input-per-minute", scope: "user", inputTokens: 100_000, per: "1m" }],
    });
    const prompt = "word ".repeat(2_000_000); // 10 MB
    let longestGap = 0;
    let last = performance.now();
    const probe = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 5);
    try {
      await expect(guard.for({ user: "u" }).openai.chat.completions.create(chat(prompt))).rejects.toMatchObject({
        code: "RATE_LIMITED",
        limitId: "input-per-minute",
      });
    } finally {
      clearInterval(probe);
    }
    expect(fake.requests).toHaveLength(0);
    // Generous for a shared 2-core machine: the point is "tens of milliseconds", not "seconds".
    expect(longestGap).toBeLessThan(500);
  });
});

describe("configuration fuzzing", () => {
  const validLimit = { id: "x", scope: "user", requests: 1, per: "1m" };
  const mutations: [string, unknown][] = [
    ["id", ""],
    ["id", "a b"],
    ["id", 7],
    ["scope", "USER"],
    ["scope", null],
    ["requests", -1],
    ["requests", 1.5],
    ["requests", Number.NaN],
    ["requests", "10"],
    ["per", "1 minute"],
    ["per", 0],
    ["per", "-1m"],
    ["models", "gpt-4o"],
    ["alertAt", [0, 0.5]],
    ["alertAt", [1.5]],
    ["enforce", "no"],
    ["colour", "blue"],
  ];

  it.each(mutations)("limits[0].%s = %j fails at construction naming the field", (field, value) => {
    let error: unknown;
    try {
      guardedClient({ providers: {}, limits: [{ ...validLimit, [field]: value } as never] });
    } catch (caught) {
      error = caught;
    }
    expect(ConfigurationError.isInstance(error)).toBe(true);
    expect((error as ConfigurationError).field).toMatch(/^limits\[0\]/);
  });

  it("random junk never constructs and never throws anything but ConfigurationError", () => {
    const junk: unknown[] = [null, 0, "x", [], {}, [null], [1], [{}], { id: "a" }, Symbol.for("x"), () => 1];
    for (const limits of junk) {
      try {
        guardedClient({ providers: {}, limits: limits as never });
        expect(limits).toEqual([]); // only an empty list is valid
      } catch (error) {
        expect(ConfigurationError.isInstance(error)).toBe(true);
      }
    }
  });
});
