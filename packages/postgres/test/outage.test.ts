import { guardedClient, StoreUnavailableError } from "@tollgate/core";
import { type FakeProviders, startFakeProviders } from "@tollgate/testing";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createPostgresStore, migrate } from "../src/index";
import { loadOpenAI, testPrices } from "./openai-sdk";
import { databaseUrl, failWithoutPostgresInCi, postgresVerdictForFile, uniqueSchema } from "./postgres-availability";
import { TcpProxy } from "./tcp-proxy";

const { verdict, probe } = await postgresVerdictForFile();
failWithoutPostgresInCi(verdict, probe);
const schema = uniqueSchema("outage");
const target = new URL(databaseUrl);
const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
const admin = new pg.Pool({ connectionString: databaseUrl, max: 2 });
admin.on("error", () => undefined);
const closers: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const close of closers) await close();
  await proxy.stop();
  if (verdict === "run") await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});

describe.runIf(verdict === "run")("Postgres outage (a loopback proxy cut and restored mid-run)", () => {
  it("fails fast per onStoreError while the server is gone, and recovers without a restart", async () => {
    await migrate(admin, { schema });
    await proxy.start();
    const viaProxy = new URL(databaseUrl);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String(proxy.port);
    // node-postgres emits idle connections' errors on the pool; without a listener they would crash the process.
    const pool = new pg.Pool({ connectionString: viaProxy.toString(), max: 4, connectionTimeoutMillis: 1_000 });
    const poolErrors: Error[] = [];
    pool.on("error", (error) => poolErrors.push(error));
    closers.push(() => pool.end());
    const fake: FakeProviders = await startFakeProviders();
    closers.push(() => fake.close());
    const OpenAI = await loadOpenAI();
    const store = createPostgresStore(pool, { schema, sweepIntervalMs: 0 });
    const options = {
      providers: { openai: new OpenAI({ apiKey: "sk-test-outage", baseURL: fake.openaiBaseURL, maxRetries: 0 }) },
      store,
      prices: testPrices,
      limits: [{ id: "user-rpm", scope: "user" as const, requests: 1_000, per: "1m" as const }],
      storeTimeoutMs: 2_000,
    };
    const denyGuard = guardedClient(options);
    const deny = denyGuard.for({ user: "u-outage" });
    const allow = guardedClient({ ...options, onStoreError: "allow" }).for({ user: "u-outage" });
    let sent = 0;
    // Every prompt differs: the guard's loop detector refuses a request repeated too often.
    const call = (client: typeof deny) =>
      client.openai.chat.completions.create({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: `Question ${++sent}` }],
        max_tokens: 8,
      });

    for (let index = 0; index < 5; index++) await call(deny);
    const inFlight = Array.from({ length: 8 }, () =>
      call(deny).then(
        () => "ok",
        (error: unknown) => error,
      ),
    );

    await proxy.stop();
    const interrupted = await Promise.all(inFlight);
    for (const outcome of interrupted) {
      if (outcome !== "ok") expect(StoreUnavailableError.isInstance(outcome)).toBe(true);
    }
    for (let index = 0; index < 5; index++) {
      const startedAt = performance.now();
      const error = await call(deny).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(StoreUnavailableError.isInstance(error)).toBe(true);
      // Refused connections fail at once: far below storeTimeoutMs.
      expect(performance.now() - startedAt).toBeLessThan(500);
    }
    const requestsBefore = fake.requests.length;
    await call(allow);
    expect(fake.requests.length).toBe(requestsBefore + 1);

    await proxy.start();
    let recoveredAfter = 0;
    for (; ; recoveredAfter++) {
      const outcome = await call(deny).then(
        () => "ok",
        (error: unknown) => error,
      );
      if (outcome === "ok") break;
      expect(StoreUnavailableError.isInstance(outcome)).toBe(true);
      expect(recoveredAfter).toBeLessThan(5);
    }
    const ledger = createPostgresStore(admin, { schema, sweepIntervalMs: 0 });
    const before = (await ledger.queryUsage({}))[0]?.requests ?? 0;
    for (let index = 0; index < 5; index++) await call(deny);
    await denyGuard.close();
    // Every call after the recovery is metered again: admitted, settled and recorded.
    expect((await ledger.queryUsage({}))[0]?.requests).toBeGreaterThanOrEqual(before + 5);
  }, 60_000);
});
