// Starts a throw-away 3-primary Redis Cluster on loopback for the Cluster tests: three `redis-server` processes with
// `--cluster-enabled yes`, joined by `redis-cli --cluster create`, stopped and deleted afterwards.
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import type { RedisConnection } from "./redis-availability";

const run = promisify(execFile);

/** Ports are drawn from here; each node also needs its cluster bus port, `port + 10000`. */
const firstPort = 17_000;
const lastPort = 17_999;
const clusterBusOffset = 10_000;
const startAttempts = 5;
const readyTimeoutMs = 20_000;

export type ClusterBinaries = { found: true } | { found: false; reason: string };

/** Whether `redis-server` and `redis-cli` (which joins the nodes) can be run here. */
export function findClusterBinaries(): ClusterBinaries {
  for (const binary of ["redis-server", "redis-cli"]) {
    const probe = spawnSync(binary, ["--version"], { encoding: "utf8" });
    if (probe.error !== undefined || probe.status !== 0) {
      return { found: false, reason: `\`${binary} --version\` failed: ${probe.error?.message ?? probe.stderr}` };
    }
  }
  return { found: true };
}

export interface RedisClusterNodes {
  /** The three primaries, each serving a third of the slots. */
  nodes: RedisConnection[];
  /** Kills the servers and deletes their directory. */
  stop(): Promise<void>;
}

/** Starts three empty primaries on free loopback ports and joins them; resolves once every node says `cluster_state:ok`. */
export async function startRedisCluster(): Promise<RedisClusterNodes> {
  const directory = await mkdtemp(join(tmpdir(), "tollgate-redis-cluster-"));
  const servers: ChildProcess[] = [];
  // If the test process ends without afterAll (a crash, a kill by the runner), the servers must not outlive it.
  const killOnExit = () => {
    for (const server of servers) server.kill("SIGKILL");
  };
  process.once("exit", killOnExit);
  const stop = async () => {
    process.off("exit", killOnExit);
    await Promise.all(servers.map(stopServer));
    await rm(directory, { recursive: true, force: true });
  };
  try {
    const nodes: RedisConnection[] = [];
    for (let index = 0; index < 3; index++) {
      const { server, port } = await startNode(directory, new Set(nodes.map((node) => node.port)));
      servers.push(server);
      nodes.push({ host: "127.0.0.1", port });
    }
    await run(
      "redis-cli",
      [
        "--cluster",
        "create",
        ...nodes.map((node) => `${node.host}:${node.port}`),
        "--cluster-replicas",
        "0",
        "--cluster-yes",
      ],
      { timeout: readyTimeoutMs },
    );
    await waitForClusterState(nodes);
    return { nodes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Starts one node on a port whose bus port is free too; another process may take a port first, so it retries. */
async function startNode(
  directory: string,
  taken: ReadonlySet<number>,
): Promise<{ server: ChildProcess; port: number }> {
  let lastError: unknown;
  for (let attempt = 0; attempt < startAttempts; attempt++) {
    const port = await freeClusterPort(taken);
    const server = spawn(
      "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        join(directory, `nodes-${port}.conf`),
        "--cluster-node-timeout",
        "5000",
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--dir",
        directory,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    server.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    server.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    try {
      await waitUntilReachable({ host: "127.0.0.1", port }, server);
      return { server, port };
    } catch (error) {
      lastError = new Error(`redis-server on port ${port} did not start: ${String(error)}\n${output.slice(-2_000)}`);
      await stopServer(server);
    }
  }
  throw lastError;
}

/** A port in 17000–17999 that, with its bus port, nobody listens on now. */
async function freeClusterPort(taken: ReadonlySet<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = firstPort + Math.floor(Math.random() * (lastPort - firstPort + 1));
    if (taken.has(port)) continue;
    if ((await portIsFree(port)) && (await portIsFree(port + clusterBusOffset))) return port;
  }
  throw new Error(`no free port pair (p, p+${clusterBusOffset}) in ${firstPort}–${lastPort}`);
}

async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  try {
    server.listen(port, "127.0.0.1");
    await once(server, "listening");
    return true;
  } catch {
    return false;
  } finally {
    if (server.listening) {
      server.close();
      await once(server, "close");
    }
  }
}

async function waitUntilReachable(connection: RedisConnection, server: ChildProcess): Promise<void> {
  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (server.exitCode !== null || server.signalCode !== null) throw new Error(`exited (${server.exitCode})`);
    const client = directClient(connection);
    try {
      await client.connect();
      if ((await client.ping()) === "PONG") return;
    } catch {
      // Not listening yet.
    } finally {
      client.disconnect();
    }
    await sleep(50);
  }
  throw new Error(`not reachable within ${readyTimeoutMs} ms`);
}

/** Waits until every node has joined, sees all slots served and reports `cluster_state:ok`. */
async function waitForClusterState(nodes: readonly RedisConnection[]): Promise<void> {
  const deadline = Date.now() + readyTimeoutMs;
  let lastInfo = "";
  while (Date.now() < deadline) {
    const infos = await Promise.all(nodes.map(clusterInfo));
    lastInfo = infos.join("\n---\n");
    const ready = infos.every(
      (info) =>
        info.includes("cluster_state:ok") &&
        info.includes("cluster_slots_ok:16384") &&
        info.includes(`cluster_known_nodes:${nodes.length}`),
    );
    if (ready) return;
    await sleep(100);
  }
  throw new Error(`the cluster did not reach cluster_state:ok within ${readyTimeoutMs} ms:\n${lastInfo}`);
}

async function clusterInfo(connection: RedisConnection): Promise<string> {
  const client = directClient(connection);
  try {
    await client.connect();
    return String(await client.cluster("INFO"));
  } catch (error) {
    return String(error);
  } finally {
    client.disconnect();
  }
}

/** A plain connection to one node, without retries, for probing and administration. */
export function directClient(connection: RedisConnection): Redis {
  const client = new Redis({
    ...connection,
    lazyConnect: true,
    enableOfflineQueue: false,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => undefined);
  return client;
}

async function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = once(server, "exit");
  server.kill("SIGKILL");
  await exited;
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
