import type { AdmitResult, TollgateStore } from "@tollgate/core";

/**
 * Asks a store on a server clock whether a block still holds in the very millisecond of its `until`: sets a block
 * ending a few milliseconds ahead, then runs dry admissions in a tight loop until the store's clock has passed it,
 * keeping the answers given at exactly `until`. A loaded machine may skip that millisecond, so it tries again with a
 * new block, up to `attempts` times; an empty answer means it never got in.
 */
export async function answersAtBlockEnd(
  store: TollgateStore,
  namespace: string,
  attempts = 50,
): Promise<AdmitResult[]> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const key = `${namespace}block-end-${attempt}`;
    const createdAt = Date.now();
    const until = createdAt + 3;
    await store.block({ key, reason: "edge", until, createdAt });
    const atEnd: AdmitResult[] = [];
    for (let now = createdAt; now <= until; ) {
      const result = await store.admit({
        reservationId: `${namespace}probe`,
        charges: [],
        blockKeys: [key],
        leaseMs: 1,
        dryRun: true,
      });
      if (result.now === until) atEnd.push(result);
      now = result.now;
    }
    if (atEnd.length > 0) return atEnd;
  }
  return [];
}
