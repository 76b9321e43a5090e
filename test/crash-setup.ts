import { costNanoUsd, findPrice, type Limit, type PriceOverride } from "@tollgate/core";

// What the crash test's parent and its children share: limits, prices, lease and the line protocol.

export const crashModel = "gpt-4o-mini";
/** $1 and $2 per 1M tokens: 1,000 nano-USD per input token, 2,000 per output token. */
export const crashPrices: Record<string, PriceOverride> = { [crashModel]: { input: 1, output: 2 } };
/** Short, so a test can watch a dead process's slots come back; renewed every leaseMs / 2 while a call runs. */
export const crashLeaseMs = 4_000;

/**
 * Global counters the parent reads (every child charges them), with room never to refuse; a per-user concurrency
 * limit each child (one user per child) runs into, so refusals happen under load too; and the same measures per
 * call (each call is its own `key`), so the parent can read what the store holds for a call its dead process could
 * not report on.
 */
export function crashLimits(userParallel: number): Limit[] {
  return [
    { id: "requests", scope: "global", requests: 10_000_000, per: "1h" },
    { id: "tokens", scope: "global", tokens: 1_000_000_000, per: "1h" },
    { id: "usd", scope: "global", usd: 10_000, per: "1h" },
    { id: "parallel", scope: "global", concurrent: 100_000 },
    { id: "user-parallel", scope: "user", concurrent: userParallel },
    { id: "call-requests", scope: "key", requests: 1_000, per: "1h" },
    { id: "call-tokens", scope: "key", tokens: 1_000_000, per: "1h" },
    { id: "call-usd", scope: "key", usd: 1_000, per: "1h" },
  ];
}

/** Nano-USD of a usage at the crash prices, computed by the core's own cost function. */
export function crashCost(inputTokens: number, outputTokens: number): number {
  const price = findPrice("openai", crashModel, { overrides: crashPrices });
  if (price === undefined) throw new Error("no crash price");
  return costNanoUsd(price, { inputTokens, outputTokens }).costNanoUsd;
}

/**
 * One line a child prints per event, written synchronously (stdout is a pipe: synchronous on Linux), so every line
 * printed before a SIGKILL reaches the parent. `call` is the child's own call id, carried in the subject as its `key` (an API client key of your own app), which the ledger keeps apart and can group by.
 */
export type CrashLine =
  | { kind: "ready" }
  | { kind: "start"; call: string }
  | { kind: "admitted"; call: string; tokens: number; usdNano: number }
  | { kind: "settled"; call: string; tokens: number; usdNano: number; status: string }
  | { kind: "refused"; call: string; code: string }
  | { kind: "failed"; call: string; message: string };

export function formatCrashLine(line: CrashLine): string {
  return `${JSON.stringify(line)}\n`;
}

/** The complete lines of a child's output (a line cut by the kill, if any, is not one). */
export function parseCrashLines(text: string): CrashLine[] {
  return text
    .split("\n")
    .slice(0, -1)
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as CrashLine);
}
