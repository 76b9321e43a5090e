import { appendFileSync, existsSync, readFileSync } from "node:fs";

/** One line of the input: `{"id": "q-17", "prompt": "…"}`. */
export interface Prompt {
  id: string;
  prompt: string;
}

/** One line of the results file, appended as soon as its call has settled. */
export interface BatchResult {
  id: string;
  runId: string;
  model: string;
  output: string;
  inputTokens: number;
  outputTokens: number;
  /** What the guard charged for the call, in integer nano-USD (1 USD = 1e9). */
  costNanoUsd: number;
  /** The provider reported no exact usage (an aborted or cut call): the numbers are the guard's estimate. */
  estimated: boolean;
  completedAt: string;
}

export function readPrompts(path: string): Prompt[] {
  const prompts: Prompt[] = [];
  const seen = new Set<string>();
  readFileSync(path, "utf8")
    .split("\n")
    .forEach((line, index) => {
      if (line.trim() === "") return;
      const where = `${path}:${index + 1}`;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new Error(`${where}: not JSON`);
      }
      const { id, prompt } = (typeof value === "object" && value !== null ? value : {}) as Partial<
        Record<keyof Prompt, unknown>
      >;
      if (typeof id !== "string" || id === "" || typeof prompt !== "string" || prompt === "") {
        throw new Error(`${where}: expected {"id": "…", "prompt": "…"}`);
      }
      if (seen.has(id)) throw new Error(`${where}: duplicate id "${id}"`);
      seen.add(id);
      prompts.push({ id, prompt });
    });
  return prompts;
}

/**
 * The results of earlier runs. A line cut short by a crash is skipped (its prompt runs again); a prompt id that
 * appears twice counts once.
 */
export function readResults(path: string): { results: Map<string, BatchResult>; damagedLines: number } {
  const results = new Map<string, BatchResult>();
  let damagedLines = 0;
  if (!existsSync(path)) return { results, damagedLines };
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    try {
      const result = JSON.parse(line) as BatchResult;
      if (typeof result.id === "string" && Number.isInteger(result.costNanoUsd) && !results.has(result.id)) {
        results.set(result.id, result);
      }
    } catch {
      damagedLines++;
    }
  }
  return { results, damagedLines };
}

/** Appends with one write per line, after closing a line a crash may have left open. */
export function createResultsWriter(path: string): (result: BatchResult) => void {
  if (existsSync(path)) {
    const text = readFileSync(path, "utf8");
    if (text.length > 0 && !text.endsWith("\n")) appendFileSync(path, "\n");
  }
  return (result) => appendFileSync(path, `${JSON.stringify(result)}\n`);
}
