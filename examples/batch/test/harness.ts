import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type FakeProviders, startFakeProviders } from "@tollgate/testing";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import type { BatchResult } from "../src/jsonl";

const exampleDirectory = fileURLToPath(new URL("..", import.meta.url));
export const maxOutputTokens = 16;

export interface Summary {
  runId: string;
  status: string;
  prompts: number;
  done: number;
  skipped: number;
  doneThisRun: number;
  spendNanoUsd: number;
  spendThisRunNanoUsd: number;
  ledgerSpendThisRunNanoUsd: number;
  waitedMs: number;
}

export interface BatchRun {
  code: number | null;
  summary: Summary;
  stderr: string;
}

export interface BatchFixtures {
  fake: FakeProviders;
  /** A fresh temporary directory per test. */
  directory: string;
}

/** One fake provider per test file, its log and rules reset before each test, and a fresh directory per test. */
export function useBatchFixtures(): BatchFixtures {
  const fixtures = {} as BatchFixtures;
  beforeAll(async () => {
    fixtures.fake = await startFakeProviders();
  });
  beforeEach(async () => {
    fixtures.fake.reset();
    fixtures.directory = await mkdtemp(join(tmpdir(), "tollgate-batch-"));
  });
  afterEach(() => rm(fixtures.directory, { recursive: true, force: true }));
  afterAll(() => fixtures.fake.close());
  return fixtures;
}

/**
 * Runs the script as its own process against the fake (its base URL goes in through OPENAI_BASE_URL, as it would
 * for a real deployment). With `interruptAfter`, sends SIGINT once the progress bar shows that many done.
 */
export function runBatch(fake: FakeProviders, args: readonly string[], interruptAfter?: number): Promise<BatchRun> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "--conditions=source",
      "src/run-batch.ts",
      "--max-output-tokens",
      String(maxOutputTokens),
      ...args,
    ],
    {
      cwd: exampleDirectory,
      env: { ...process.env, OPENAI_BASE_URL: fake.openaiBaseURL, OPENAI_API_KEY: "sk-test-batch" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  let interrupted = false;
  child.stdout.setEncoding("utf8").on("data", (text: string) => {
    stdout += text;
  });
  child.stderr.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
    const done = Math.max(0, ...[...stderr.matchAll(/\] (\d+)\/\d+ /g)].map((match) => Number(match[1])));
    if (interruptAfter !== undefined && !interrupted && done >= interruptAfter) {
      interrupted = true;
      child.kill("SIGINT");
    }
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      try {
        resolve({ code, summary: JSON.parse(stdout) as Summary, stderr });
      } catch {
        reject(new Error(`no summary on stdout (exit ${code}):\n${stdout}\n${stderr}`));
      }
    });
  });
}

/** `count` prompts of different lengths, so each has its own input tokens and cost. */
export async function writePrompts(
  directory: string,
  count: number,
): Promise<{ input: string; results: string; ids: string[]; texts: Map<string, string> }> {
  const texts = new Map(
    Array.from({ length: count }, (_, index) => [
      `p${String(index + 1).padStart(2, "0")}`,
      `Q${"?".repeat(index * 3)}`,
    ]),
  );
  const input = join(directory, "prompts.jsonl");
  await writeFile(input, [...texts].map(([id, prompt]) => `${JSON.stringify({ id, prompt })}\n`).join(""));
  return { input, results: join(directory, "results.jsonl"), ids: [...texts.keys()], texts };
}

export async function readResultLines(path: string): Promise<BatchResult[]> {
  return (await readFile(path, "utf8"))
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as BatchResult);
}

export const sumOfCosts = (results: readonly BatchResult[]) =>
  results.reduce((total, result) => total + result.costNanoUsd, 0);
