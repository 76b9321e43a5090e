import { type FakeProviders, startFakeProviders } from "@tollgate/testing";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createPostgresStore, migrate } from "../src/index";
import { collectOutput, spawnScript } from "./child-process";
import { expectedCostNanoUsd } from "./openai-sdk";
import { databaseUrl, failWithoutPostgresInCi, postgresVerdictForFile, uniqueSchema } from "./postgres-availability";

const { verdict, probe } = await postgresVerdictForFile();
failWithoutPostgresInCi(verdict, probe);
const schema = uniqueSchema("multi_process");
const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
pool.on("error", () => undefined);
let fake: FakeProviders | undefined;

afterAll(async () => {
  if (verdict === "run") await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
  await fake?.close();
});

interface ChildResult {
  admitted: number;
  refused: number;
  errors: string[];
}

describe.runIf(verdict === "run")("guarded calls across processes on one Postgres", () => {
  it("4 processes × 250 concurrent guarded calls against requests: 400 admit exactly 400, and the ledger sums to the provider's usage", async () => {
    await migrate(pool, { schema });
    fake = await startFakeProviders({ rules: [{ usage: { cachedInputTokens: 4 } }] });
    const children = Array.from({ length: 4 }, () =>
      spawnScript("./guarded-calls-script.ts", [databaseUrl, schema, fake?.openaiBaseURL ?? "", "250", "400"], "pipe"),
    );
    try {
      const outputs = children.map(collectOutput);
      await Promise.all(outputs.map((output) => output.line("ready")));
      for (const child of children) child.stdin?.end("go\n");
      const results = (await Promise.all(outputs.map((output) => output.result()))) as ChildResult[];

      // No deadlock, serialization failure or timeout reached a caller: every call was admitted or refused.
      expect(results.flatMap((result) => result.errors)).toEqual([]);
      expect(results.reduce((sum, result) => sum + result.admitted, 0)).toBe(400);
      expect(results.reduce((sum, result) => sum + result.refused, 0)).toBe(600);
      expect(fake.requests).toHaveLength(400);

      // One usage row per settled call, summing exactly to what the fake provider reported.
      const reported = fake.requests.map((request) => {
        if (request.usage === undefined) throw new Error(`request ${request.id} reported no usage`);
        return request.usage;
      });
      const store = createPostgresStore(pool, { schema, sweepIntervalMs: 0 });
      const [totals] = await store.queryUsage({});
      expect(totals).toEqual({
        group: {},
        requests: 400,
        inputTokens: sum(reported.map((usage) => usage.inputTokens)),
        cachedInputTokens: 1_600,
        cacheWriteInputTokens: 0,
        outputTokens: sum(reported.map((usage) => usage.outputTokens)),
        reasoningTokens: 0,
        costNanoUsd: sum(reported.map(expectedCostNanoUsd)),
        estimatedRequests: 0,
        errorRequests: 0,
      });
      const byProcess = await store.queryUsage({ groupBy: ["user"] });
      expect(byProcess.map((row) => row.requests).sort((left, right) => left - right)).toEqual(
        results.map((result) => result.admitted).sort((left, right) => left - right),
      );
      const ledger = await pool.query(`SELECT count(*)::int AS rows FROM "${schema}".tollgate_usage`);
      expect(ledger.rows).toEqual([{ rows: 400 }]);
      // Every reservation was settled; no concurrency lease or reservation is left behind.
      const reservations = await pool.query(`SELECT count(*)::int AS rows FROM "${schema}".tollgate_reservations`);
      expect(reservations.rows).toEqual([{ rows: 0 }]);
    } finally {
      for (const child of children) if (child.exitCode === null) child.kill();
    }
  }, 120_000);
});

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
