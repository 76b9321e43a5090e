// The machine and versions a run was taken on, for the table's heading and the JSON.
import { readFile } from "node:fs/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { Redis } from "ioredis";
import pg from "pg";
import type { BenchContext } from "./context";

export interface Machine {
  cpu: string;
  vcpus: number;
  memoryGiB: number;
  node: string;
  redis: string;
  postgres: string;
  packages: Record<string, string>;
  /** 1-minute load average when the run started: above the vCPU count, other work shared the machine. */
  loadAverageAtStart: number;
  summary: string;
}

const measuredPackages = [
  "openai",
  "@anthropic-ai/sdk",
  "@google/genai",
  "ioredis",
  "pg",
  "@electric-sql/pglite",
  "rate-limiter-flexible",
];

async function packageVersion(name: string): Promise<string> {
  try {
    const text = await readFile(new URL(`./node_modules/${name}/package.json`, import.meta.url), "utf8");
    const parsed: unknown = JSON.parse(text);
    const version = typeof parsed === "object" && parsed !== null ? Reflect.get(parsed, "version") : undefined;
    return typeof version === "string" ? version : "?";
  } catch {
    return "not installed";
  }
}

async function redisVersion(url: string): Promise<string> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const info = await redis.info("server");
    return /redis_version:(\S+)/.exec(info)?.[1] ?? "?";
  } catch (error) {
    return `unreachable (${error instanceof Error ? error.message : String(error)})`;
  } finally {
    redis.disconnect();
  }
}

async function postgresVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    const result = await client.query<{ server_version: string }>("SHOW server_version");
    return result.rows[0]?.server_version ?? "?";
  } catch (error) {
    return `unreachable (${error instanceof Error ? error.message : String(error)})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function describeMachine(context: BenchContext): Promise<Machine> {
  const processors = cpus();
  const packages: Record<string, string> = {};
  for (const name of measuredPackages) packages[name] = await packageVersion(name);
  const machine = {
    cpu: processors[0]?.model.trim() ?? "?",
    vcpus: processors.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    redis: await redisVersion(context.redisUrl),
    postgres: await postgresVersion(context.postgresUrl),
    packages,
    loadAverageAtStart: loadavg()[0] ?? 0,
  };
  const summary =
    `${machine.vcpus} vCPU ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}, Redis ${machine.redis}, ` +
    `PostgreSQL ${machine.postgres} (loopback, client and servers on the same cores), ` +
    `load average ${machine.loadAverageAtStart.toFixed(2)} at start; ` +
    Object.entries(packages)
      .map(([name, version]) => `${name} ${version}`)
      .join(", ");
  return { ...machine, summary };
}
