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
    // Delete before setting: a Map iterates in insertion order, so the ids stay in the order they expire in.
    this.expiries.delete(id);
    this.expiries.set(id, now + this.memoryMs);
    return true;
  }

  /**
   * Drops the forgotten ids from the oldest on and stops at the first one still remembered: it costs the ids it drops,
   * not every id of the last `memoryMs` (hundreds of thousands on a busy process). After the clock stepped back an
   * id may wait behind a later one until that one expires too; `claim` checks expiry itself, so answers never change.
   */
  sweep(now: number): void {
    for (const [id, expiresAt] of this.expiries) {
      if (expiresAt > now) return;
      this.expiries.delete(id);
    }
  }

  get size(): number {
    return this.expiries.size;
  }
}
