import pg from "pg";
import { it } from "vitest";

/** The server the tests use: `DATABASE_URL`, by default the local `test` database. */
export const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export type PostgresProbe = { reachable: true } | { reachable: false; reason: string };

/** What a test file does about Postgres: run, fail (CI must never silently skip), or skip with a message. */
export type PostgresVerdict = "run" | "fail" | "skip";

/** Connects once, with a short timeout, and runs `SELECT 1`. */
export async function probePostgres(connectionString: string): Promise<PostgresProbe> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 2_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
    return { reachable: true };
  } catch (error) {
    return { reachable: false, reason: error instanceof Error ? error.message : String(error) };
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function postgresVerdict(probe: PostgresProbe, ci: boolean): PostgresVerdict {
  if (probe.reachable) return "run";
  return ci ? "fail" : "skip";
}

/** Probes `databaseUrl` once per file, and warns when the file's Postgres tests are skipped. */
export async function postgresVerdictForFile(): Promise<{ verdict: PostgresVerdict; probe: PostgresProbe }> {
  const probe = await probePostgres(databaseUrl);
  const verdict = postgresVerdict(probe, process.env.CI === "true");
  if (verdict === "skip" && !probe.reachable) {
    console.warn(
      `Skipping the Postgres store tests: no Postgres at ${redactedUrl(databaseUrl)} (${probe.reason}). Set DATABASE_URL; in CI (CI=true) this fails instead.`,
    );
  }
  return { verdict, probe };
}

/** The URL without its password, for messages. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}

/** A schema name no other test file or run uses. */
export function uniqueSchema(label: string): string {
  return `tollgate_test_${label}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

/** Registers, in a file whose Postgres tests would be skipped, a test that fails when CI requires Postgres. */
export function failWithoutPostgresInCi(verdict: PostgresVerdict, probe: PostgresProbe): void {
  it.runIf(verdict === "fail")(`reaches Postgres at ${redactedUrl(databaseUrl)} (required in CI)`, () => {
    throw new Error(
      `CI=true but Postgres is unreachable at ${redactedUrl(databaseUrl)}: ${probe.reachable ? "" : probe.reason}`,
    );
  });
}
