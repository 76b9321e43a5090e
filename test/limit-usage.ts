import type { Guard, Limit, ProviderClients, Subject } from "@tollgate/core";

const measures = ["concurrent", "usd", "requests", "tokens", "inputTokens", "outputTokens"] as const;

/** A limit's capacity in store units (nano-USD for `usd`). */
function capacityOf(limit: Limit): number {
  for (const measure of measures) {
    const capacity = (limit as Partial<Record<(typeof measures)[number], number>>)[measure];
    if (capacity !== undefined) return measure === "usd" ? Math.round(capacity * 1e9) : capacity;
  }
  throw new Error(`limit ${limit.id} has no measure`);
}

/**
 * What each limit's counter holds for `subject` right now, in store units (calls in flight for `concurrent`, nano-USD
 * for `usd`), read through `guard.check()`: a dry-run admission on the store, which reserves nothing. The limits
 * must not refuse the check (give them room), or only the refusing one is reported.
 */
export async function usedNow(
  guard: Guard<ProviderClients>,
  subject: Subject,
  limits: readonly Limit[],
): Promise<Record<string, number>> {
  const answer = await guard.check(subject);
  if (!answer.allowed) throw new Error(`check refused (${answer.limitId}): give the limits room to read them`);
  const used: Record<string, number> = {};
  for (const limit of limits) {
    const remaining = answer.remaining[limit.id];
    if (remaining === undefined) continue;
    const remainingInStoreUnits = "usd" in limit && limit.usd !== undefined ? Math.round(remaining * 1e9) : remaining;
    used[limit.id] = capacityOf(limit) - remainingInStoreUnits;
  }
  return used;
}
