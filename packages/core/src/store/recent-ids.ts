/**
 * Ids seen in the last `memoryMs` of a store's clock, for the memory store's idempotent ledger writes. Expired ids
 * are dropped by `sweep`, which the store runs with the rest of its sweep, so memory follows the ids of the last
 * `memoryMs`, not every id ever seen.
 */
export class RecentIds {
  /** Id → when it is forgotten (epoch ms). */
  private readonly expiries = new Map<string, number>();

  constructor(private readonly memoryMs: number) {}

  /** `true` when `id` is new (and is remembered from now on), `false` when it was seen within `memoryMs`. */
  claim(id: string, now: number): boolean {
    const expiresAt = this.expiries.get(id);
    if (expiresAt !== undefined && expiresAt > now) return false;
    this.expiries.set(id, now + this.memoryMs);
    return true;
  }

  sweep(now: number): void {
    for (const [id, expiresAt] of this.expiries) {
      if (expiresAt <= now) this.expiries.delete(id);
    }
  }

  get size(): number {
    return this.expiries.size;
  }
}
