import type { UsageRecord } from "@tollgate/core";

/** The ledger record of one small OpenAI call, with `fields` laid over it: the common input of the ledger tests. */
export function usageRecord(fields: Partial<UsageRecord> = {}): UsageRecord {
  return {
    time: Date.now(),
    provider: "openai",
    model: "gpt-4o-mini",
    operation: "openai.chat",
    user: "u1",
    inputTokens: 10,
    cachedInputTokens: 0,
    cacheWriteInputTokens: 0,
    outputTokens: 5,
    reasoningTokens: 0,
    costNanoUsd: 1_000,
    estimated: false,
    status: "ok",
    latencyMs: 12,
    ...fields,
  };
}

/**
 * The slots of a rolling-window hash as `[slot index, amount]`: every field but the running total `t` and the
 * lowest slot `o`.
 */
export function windowSlots(hash: Record<string, string>): [number, number][] {
  return Object.entries(hash)
    .filter(([field]) => field !== "t" && field !== "o")
    .map(([slot, amount]) => [Number(slot), Number(amount)]);
}
