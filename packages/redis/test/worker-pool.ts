// Parent side of the multi-process tests: starts app-instance processes (guarded-calls-worker.ts) once, then runs
// rounds on all of them at the same moment.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import type { WorkerResult, WorkerRound, WorkerTopology } from "./worker-protocol";

export interface WorkerPool {
  /** The workers' process ids: each one's calls carry `user: process-<pid>`. */
  pids: number[];
  /**
   * Hands `round` to every worker, waits until all have built their guard, then starts them together and returns
   * each one's result.
   */
  run(round: WorkerRound): Promise<WorkerResult[]>;
  /** Ends stdin, so each worker closes its Redis client and exits; kills any that does not. */
  close(): Promise<void>;
}

/** Starts `count` workers connected to `topology`, calling the OpenAI API at `baseURL`. */
export async function startWorkers(count: number, topology: WorkerTopology, baseURL: string): Promise<WorkerPool> {
  const children = Array.from({ length: count }, () =>
    spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "--conditions=source",
        fileURLToPath(new URL("./guarded-calls-worker.ts", import.meta.url)),
        JSON.stringify(topology),
        baseURL,
      ],
      { cwd: fileURLToPath(new URL("..", import.meta.url)), stdio: ["pipe", "pipe", "inherit"] },
    ),
  );
  const readers = children.map(lineReader);
  const close = async () => {
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, "exit");
        child.stdin?.end();
        const timer = setTimeout(() => child.kill(), 10_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  };
  try {
    await Promise.all(readers.map((reader) => reader.expect("connected")));
  } catch (error) {
    for (const child of children) child.kill();
    throw error;
  }
  return {
    pids: children.map((child) => child.pid ?? 0),
    async run(round) {
      for (const child of children) child.stdin?.write(`${JSON.stringify(round)}\n`);
      await Promise.all(readers.map((reader) => reader.expect("ready")));
      for (const child of children) child.stdin?.write("go\n");
      return Promise.all(readers.map(async (reader) => JSON.parse(await reader.next()) as WorkerResult));
    },
    close,
  };
}

interface LineReader {
  /** The next line the child prints; rejects if it exits first. */
  next(): Promise<string>;
  /** Reads the next line and rejects unless it is `line`. */
  expect(line: string): Promise<void>;
}

function lineReader(child: ChildProcess): LineReader {
  const lines: string[] = [];
  const waiters: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  let partial = "";
  let exit: Error | undefined;
  child.stdout?.on("data", (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
    while (lines.length > 0 && waiters.length > 0) waiters.shift()?.resolve(lines.shift() ?? "");
  });
  child.on("exit", (code, signal) => {
    exit = new Error(
      `worker ${child.pid} exited (${signal ?? code}); unread output: ${[...lines, partial].join("\n")}`,
    );
    for (const waiter of waiters.splice(0)) waiter.reject(exit);
  });
  const next = () =>
    new Promise<string>((resolve, reject) => {
      const line = lines.shift();
      if (line !== undefined) resolve(line);
      else if (exit !== undefined) reject(exit);
      else waiters.push({ resolve, reject });
    });
  return {
    next,
    async expect(expected) {
      const line = await next();
      if (line !== expected) throw new Error(`worker ${child.pid} printed ${JSON.stringify(line)}, not "${expected}"`);
    },
  };
}
