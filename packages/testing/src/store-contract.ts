import { randomUUID } from "node:crypto";
import type {
  AdmitRequest,
  AdmitResult,
  BlockEntry,
  CounterCharge,
  TollgateStore,
  UsageQuery,
  UsageRecord,
  UsageRow,
} from "@tollgate/core";
import { describe, expect, it } from "vitest";
import { type AlertLogLimits, registerAlertLogCases } from "./alert-log-contract";

export interface StoreContractOptions {
  /** Creates a fresh, isolated store (e.g. with a random key prefix); called once per case. May be async. */
  createStore: () => TollgateStore | Promise<TollgateStore>;
  /**
   * Optional: creates a store whose clock the suite controls, for the time-dependent cases (rollover, leases, TTLs),
   * which then advance the clock instead of sleeping. When absent, those cases use short real windows (300–600 ms)
   * and real waits measured on the store's own clock, which is what a store with a server clock (Redis) needs.
   */
  createStoreWithClock?: (clock: () => number) => TollgateStore | Promise<TollgateStore>;
  /**
   * Optional: creates a store whose alert log has the given bounds (most entries, retention), so the bound cases
   * fill a small log. When absent, they take `createStore`'s store to have the documented defaults (10,000 entries,
   * 400 days) and fill that.
   */
  createStoreWithAlertLogLimits?: (limits: AlertLogLimits) => TollgateStore | Promise<TollgateStore>;
}

type Admitted = Extract<AdmitResult, { admitted: true }>;
type LimitRefusal = { kind: "limit"; chargeIndex: number; used: number; retryAfterMs: number | undefined };

/** A store plus the passing of time: real time, or a clock the suite moves. */
interface Timeline {
  store: TollgateStore;
  /** The store's clock (epoch ms). */
  now(): Promise<number>;
  /** Lets `milliseconds` pass. */
  sleep(milliseconds: number): Promise<void>;
  /** Waits until the store's clock has reached `time`. */
  waitUntil(time: number): Promise<void>;
}

const dayMs = 86_400_000;
const hourMs = 3_600_000;

/**
 * Registers the conformance suite every `TollgateStore` passes: all-or-nothing admission, no charge on refusal,
 * sliding/fixed/concurrency windows, idempotent settlement with refunds scoped to their window, leases, dry runs,
 * block list, once-markers, the usage ledger (a record counted once per id), the alert log, shadow limits and
 * exactness under concurrent admissions. Every case uses keys with a random suffix and a store of its own, so cases
 * never interfere.
 */
export function describeStoreContract(name: string, options: StoreContractOptions): void {
  async function withStore(run: (store: TollgateStore) => Promise<void>): Promise<void> {
    const store = await options.createStore();
    try {
      await run(store);
    } finally {
      await store.close();
    }
  }

  async function withTimeline(run: (timeline: Timeline) => Promise<void>): Promise<void> {
    const timeline = await openTimeline(options);
    try {
      await run(timeline);
    } finally {
      await timeline.store.close();
    }
  }

  const createLimited = options.createStoreWithAlertLogLimits;
  async function withLimitedStore(limits: AlertLogLimits, run: (store: TollgateStore) => Promise<void>) {
    const store = await createLimited!(limits);
    try {
      await run(store);
    } finally {
      await store.close();
    }
  }

  describe(`store contract: ${name}`, () => {
    it("admits every charge of a call or none of them", async () => {
      await withStore(async (store) => {
        const now = await storeNow(store);
        const perMinute = sliding(uniqueKey("all-a"), 1, 10);
        const tokens = sliding(uniqueKey("all-b"), 3, 5);
        const daily = fixed(uniqueKey("all-c"), 2, 100, now + hourMs);
        const first = admitted(await admit(store, [perMinute, tokens, daily]));
        expect(first.usedAfter).toEqual([1, 3, 2]);
        expect(first.shadowRefusals).toEqual([]);
        const second = limitRefusal(await admit(store, [perMinute, tokens, daily]));
        expect(second).toMatchObject({ chargeIndex: 1, used: 3 });
        expect(await usage(store, perMinute)).toBe(1);
        expect(await usage(store, tokens)).toBe(3);
        expect(await usage(store, daily)).toBe(2);
        // Filling a limit exactly to its capacity is admitted.
        expect(admitted(await admit(store, [{ ...tokens, amount: 2 }])).usedAfter).toEqual([5]);
      });
    });

    it("charges nothing on refusal, not even the charges listed before or after the refusing one", async () => {
      await withStore(async (store) => {
        const now = await storeNow(store);
        const slot = concurrency(uniqueKey("none-slot"), 1);
        const perMinute = sliding(uniqueKey("none-minute"), 4, 5);
        const tooBig = sliding(uniqueKey("none-big"), 6, 5);
        const daily = fixed(uniqueKey("none-daily"), 4, 10, now + hourMs);
        const refusal = limitRefusal(await admit(store, [slot, perMinute, tooBig, daily]));
        expect(refusal).toEqual({ kind: "limit", chargeIndex: 2, used: 0, retryAfterMs: undefined });
        expect(await usage(store, slot)).toBe(0);
        expect(await usage(store, perMinute)).toBe(0);
        expect(await usage(store, daily)).toBe(0);
        expect(admitted(await admit(store, [slot, perMinute, daily])).usedAfter).toEqual([1, 4, 4]);
      });
    });

    it("reports the refusing charge, its usage and a retry delay that fits the window", async () => {
      await withStore(async (store) => {
        // Sliding: the delay is when enough of the oldest slots have left the window.
        const perMinute = sliding(uniqueKey("retry-sliding"), 7, 10, 60_000, 10);
        admitted(await admit(store, [perMinute]));
        const free = sliding(uniqueKey("retry-free"), 1, 100);
        const slidingResult = await admit(store, [free, { ...perMinute, amount: 4 }]);
        const slidingRefusal = limitRefusal(slidingResult);
        expect(slidingRefusal).toMatchObject({ kind: "limit", chargeIndex: 1, used: 7 });
        expect(slidingRefusal.retryAfterMs).toBeGreaterThan(0);
        expect(slidingRefusal.retryAfterMs).toBeLessThanOrEqual(60_000 + 6_000);
        // Cost larger than what is left is refused even though the limit is not full yet.
        expect(limitRefusal(await admit(store, [{ ...perMinute, amount: 4 }])).used).toBe(7);
        expect(admitted(await admit(store, [{ ...perMinute, amount: 3 }])).usedAfter).toEqual([10]);

        // Fixed: the delay is the end of the period.
        const now = await storeNow(store);
        const endsAt = now + 60_000;
        const daily = fixed(uniqueKey("retry-fixed"), 10, 10, endsAt);
        admitted(await admit(store, [daily]));
        const fixedResult = await admit(store, [{ ...daily, amount: 1 }]);
        expect(limitRefusal(fixedResult)).toEqual({
          kind: "limit",
          chargeIndex: 0,
          used: 10,
          retryAfterMs: endsAt - fixedResult.now,
        });

        // Concurrency: the delay is bounded by the earliest lease expiry.
        const slot = concurrency(uniqueKey("retry-slot"), 1);
        const holder = admitted(await admit(store, [slot], { leaseMs: 30_000 }));
        const busyResult = await admit(store, [slot], { leaseMs: 30_000 });
        expect(limitRefusal(busyResult)).toEqual({
          kind: "limit",
          chargeIndex: 0,
          used: 1,
          retryAfterMs: holder.now + 30_000 - busyResult.now,
        });

        // A charge larger than the capacity never fits: no delay to suggest.
        const neverFits = limitRefusal(await admit(store, [sliding(uniqueKey("retry-never"), 11, 10)]));
        expect(neverFits.retryAfterMs).toBeUndefined();
      });
    });

    it("sliding window: never more than the capacity in any window, and capacity comes back after it", async () => {
      await withTimeline(async ({ store, now, sleep, waitUntil }) => {
        const windowMs = 400;
        const rate = sliding(uniqueKey("sliding"), 1, 3, windowMs, 4);
        const start = await now();
        const admittedAt: number[] = [];
        for (let time = start; time < start + 1_300; ) {
          const result = await admit(store, [rate]);
          if (result.admitted) admittedAt.push(result.now);
          time = result.now;
          await sleep(20);
        }
        for (const windowStart of admittedAt) {
          const inWindow = admittedAt.filter((time) => time >= windowStart && time < windowStart + windowMs);
          expect(inWindow.length).toBeLessThanOrEqual(3);
        }
        expect(admittedAt.length).toBeGreaterThanOrEqual(6);

        // On a fresh key: fill it, get refused, wait the suggested delay, and get admitted again.
        const fresh = sliding(uniqueKey("sliding-fresh"), 1, 3, windowMs, 4);
        for (let call = 0; call < 3; call++) admitted(await admit(store, [fresh]));
        const refused = await admit(store, [fresh]);
        const refusal = limitRefusal(refused);
        expect(refusal.used).toBe(3);
        expect(refusal.retryAfterMs).toBeGreaterThan(0);
        expect(refusal.retryAfterMs).toBeLessThanOrEqual(windowMs + windowMs / 4);
        await waitUntil(refused.now + (refusal.retryAfterMs ?? 0));
        admitted(await admit(store, [fresh]));
      });
    });

    it("fixed window: starts from zero at endsAt, and a settle after endsAt changes nothing", async () => {
      await withTimeline(async ({ store, now, waitUntil }) => {
        const key = uniqueKey("fixed");
        const endsAt = (await now()) + 400;
        const refundId = randomUUID();
        const overageId = randomUUID();
        admitted(await admit(store, [fixed(key, 6, 10, endsAt)], { reservationId: refundId }));
        admitted(await admit(store, [fixed(key, 4, 10, endsAt)], { reservationId: overageId }));
        const refused = await admit(store, [fixed(key, 1, 10, endsAt)]);
        expect(limitRefusal(refused)).toMatchObject({ used: 10, retryAfterMs: endsAt - refused.now });
        await waitUntil(endsAt);
        // A refund and an overage, both arriving after the period ended.
        await store.settle({ reservationId: refundId, amounts: [0] });
        await store.settle({ reservationId: overageId, amounts: [9] });
        const nextEndsAt = endsAt + hourMs;
        // The next period (the core names it with a new key) starts from zero and holds exactly its capacity...
        const nextKey = `${key}|next`;
        expect(admitted(await admit(store, [fixed(nextKey, 10, 10, nextEndsAt)])).usedAfter).toEqual([10]);
        expect(limitRefusal(await admit(store, [fixed(nextKey, 1, 10, nextEndsAt)])).used).toBe(10);
        // ...and so does the ended period's own key: neither its count nor the late settles carried over.
        expect(admitted(await admit(store, [fixed(key, 10, 10, nextEndsAt)])).usedAfter).toEqual([10]);
        expect(limitRefusal(await admit(store, [fixed(key, 1, 10, nextEndsAt)])).used).toBe(10);
      });
    });

    it("settles idempotently and replaces reserved amounts by true ones (refund and overage)", async () => {
      await withStore(async (store) => {
        const refund = sliding(uniqueKey("settle-refund"), 10, 10);
        const refundId = randomUUID();
        admitted(await admit(store, [refund], { reservationId: refundId }));
        await store.settle({ reservationId: refundId, amounts: [4] });
        expect(await usage(store, refund)).toBe(4);
        await store.settle({ reservationId: refundId, amounts: [0] });
        expect(await usage(store, refund)).toBe(4);

        const overage = sliding(uniqueKey("settle-overage"), 3, 10);
        const overageId = randomUUID();
        admitted(await admit(store, [overage], { reservationId: overageId }));
        await store.settle({ reservationId: overageId, amounts: [8] });
        expect(await usage(store, overage)).toBe(8);
        const secondId = randomUUID();
        admitted(await admit(store, [{ ...overage, amount: 2 }], { reservationId: secondId }));
        await store.settle({ reservationId: secondId, amounts: [9] });
        // Overage past the capacity is kept (the call happened); the next call is refused.
        expect(limitRefusal(await admit(store, [{ ...overage, amount: 1 }])).used).toBe(17);

        const now = await storeNow(store);
        const daily = fixed(uniqueKey("settle-fixed"), 6, 10, now + hourMs);
        const slot = concurrency(uniqueKey("settle-slot"), 1);
        const partial = sliding(uniqueKey("settle-partial"), 5, 10);
        const mixedId = randomUUID();
        admitted(await admit(store, [daily, slot, partial], { reservationId: mixedId }));
        // Amounts missing at the end keep their reserved value; concurrency is released whatever its amount.
        await store.settle({ reservationId: mixedId, amounts: [1, 1] });
        expect(await usage(store, daily)).toBe(1);
        expect(await usage(store, slot)).toBe(0);
        expect(await usage(store, partial)).toBe(5);
        await store.settle({ reservationId: mixedId, amounts: [10, 1, 10] });
        expect(await usage(store, daily)).toBe(1);
        expect(await usage(store, partial)).toBe(5);

        // Settling an id the store never saw is a no-op.
        await store.settle({ reservationId: randomUUID(), amounts: [1] });
      });
    });

    it("a refund after the charge's slot left the sliding window frees nothing", async () => {
      await withTimeline(async ({ store, waitUntil }) => {
        const windowMs = 300;
        const tokens = sliding(uniqueKey("late-refund"), 10, 10, windowMs, 3);
        const reservationId = randomUUID();
        const first = admitted(await admit(store, [tokens], { reservationId }));
        // The slot counts while any part of it is inside the window: at most window + one slot.
        await waitUntil(first.now + windowMs + windowMs / 3);
        await store.settle({ reservationId, amounts: [2] });
        let admittedTokens = 0;
        for (let call = 0; call < 3; call++) {
          const result = await admit(store, [{ ...tokens, amount: 5 }]);
          if (result.admitted) admittedTokens += 5;
        }
        expect(admittedTokens).toBe(10);
      });
    });

    it("holds a concurrency slot until the reservation is settled", async () => {
      await withStore(async (store) => {
        const slots = concurrency(uniqueKey("slots"), 2);
        const firstId = randomUUID();
        expect(admitted(await admit(store, [slots], { reservationId: firstId })).usedAfter).toEqual([1]);
        expect(admitted(await admit(store, [slots])).usedAfter).toEqual([2]);
        expect(limitRefusal(await admit(store, [slots])).used).toBe(2);
        await store.settle({ reservationId: firstId, amounts: [1] });
        expect(admitted(await admit(store, [slots])).usedAfter).toEqual([2]);
      });
    });

    it("frees a concurrency slot when its lease expires, and a late settle frees nobody else's", async () => {
      await withTimeline(async ({ store, waitUntil }) => {
        const slots = concurrency(uniqueKey("lease"), 2);
        admitted(await admit(store, [slots], { leaseMs: 60_000 }));
        const crashedId = randomUUID();
        const crashed = admitted(await admit(store, [slots], { reservationId: crashedId, leaseMs: 300 }));
        limitRefusal(await admit(store, [slots]));
        await waitUntil(crashed.now + 300);
        expect(admitted(await admit(store, [slots], { leaseMs: 60_000 })).usedAfter).toEqual([2]);
        await store.settle({ reservationId: crashedId, amounts: [1] });
        expect(limitRefusal(await admit(store, [slots])).used).toBe(2);
      });
    });

    it("extendLease keeps a slot past its first lease; false once settled, expired or unknown", async () => {
      await withTimeline(async ({ store, waitUntil }) => {
        const slot = concurrency(uniqueKey("extend"), 1);
        const longCallId = randomUUID();
        const longCall = admitted(await admit(store, [slot], { reservationId: longCallId, leaseMs: 400 }));
        await waitUntil(longCall.now + 100);
        expect(await store.extendLease(longCallId, 1_000)).toBe(true);
        await waitUntil(longCall.now + 600);
        expect(limitRefusal(await admit(store, [slot])).used).toBe(1);
        await store.settle({ reservationId: longCallId, amounts: [1] });
        expect(await store.extendLease(longCallId, 1_000)).toBe(false);
        admitted(await admit(store, [slot]));
        expect(await store.extendLease(randomUUID(), 1_000)).toBe(false);

        const expiring = concurrency(uniqueKey("extend-expired"), 1);
        const expiredId = randomUUID();
        const expired = admitted(await admit(store, [expiring], { reservationId: expiredId, leaseMs: 300 }));
        await waitUntil(expired.now + 300);
        expect(await store.extendLease(expiredId, 1_000)).toBe(false);
        admitted(await admit(store, [expiring]));
      });
    });

    it("dry runs answer like admission but reserve nothing", async () => {
      await withStore(async (store) => {
        const now = await storeNow(store);
        const charges = [
          sliding(uniqueKey("dry-sliding"), 5, 5),
          fixed(uniqueKey("dry-fixed"), 5, 5, now + hourMs),
          concurrency(uniqueKey("dry-slot"), 1),
        ];
        const dryRunId = randomUUID();
        for (let call = 0; call < 3; call++) {
          const result = admitted(await admit(store, charges, { dryRun: true, reservationId: dryRunId }));
          expect(result.usedAfter).toEqual([5, 5, 1]);
        }
        expect(await store.extendLease(dryRunId, 1_000)).toBe(false);
        expect(admitted(await admit(store, charges)).usedAfter).toEqual([5, 5, 1]);
        expect(limitRefusal(await admit(store, charges, { dryRun: true }))).toMatchObject({ chargeIndex: 0, used: 5 });
      });
    });

    it("refuses blocked subjects, lifts blocks at their end or on unblock, and lists active blocks", async () => {
      await withTimeline(async ({ store, now, waitUntil }) => {
        const createdAt = await now();
        const timed: BlockEntry = { key: uniqueKey("block-timed"), reason: "abuse", until: createdAt + 400, createdAt };
        const open: BlockEntry = { key: uniqueKey("block-open"), reason: undefined, until: undefined, createdAt };
        await store.block(timed);
        await store.block(open);
        const perMinute = sliding(uniqueKey("block-charge"), 1, 10);
        const refused = await admit(store, [perMinute], { blockKeys: [uniqueKey("block-other"), timed.key] });
        expect(refused).toMatchObject({ admitted: false, refusal: { kind: "blocked" } });
        if (refused.admitted || refused.refusal.kind !== "blocked") throw new Error("expected a block refusal");
        expect(refused.refusal.entry).toEqual(timed);
        expect(await usage(store, perMinute)).toBe(0);
        expect(sortByKey(await store.listBlocked())).toEqual(sortByKey([timed, open]));

        await waitUntil(timed.until ?? 0);
        admitted(await admit(store, [perMinute], { blockKeys: [timed.key] }));
        expect(await store.listBlocked()).toEqual([open]);
        expect(await admit(store, [perMinute], { blockKeys: [timed.key, open.key] })).toMatchObject({
          admitted: false,
          refusal: { kind: "blocked", entry: open },
        });
        await store.unblock(open.key);
        await store.unblock(uniqueKey("never-blocked"));
        expect(admitted(await admit(store, [perMinute], { blockKeys: [timed.key, open.key] })).usedAfter).toEqual([2]);
        expect(await store.listBlocked()).toEqual([]);
      });
    });

    it("sets a once-marker once per TTL", async () => {
      await withTimeline(async ({ store, now, waitUntil }) => {
        const marker = uniqueKey("marker");
        expect(await store.markOnce(marker, 300)).toBe(true);
        const setBy = await now();
        expect(await store.markOnce(marker, 300)).toBe(false);
        expect(await store.markOnce(uniqueKey("marker-other"), 300)).toBe(true);
        await waitUntil(setBy + 300);
        expect(await store.markOnce(marker, 300)).toBe(true);
        expect(await store.markOnce(marker, 300)).toBe(false);
      });
    });

    it("records usage and groups it by user, model and day, with since/until and where", async () => {
      await withStore(async (store) => {
        // since/until fall on UTC day boundaries: stores may aggregate by hour or by day.
        const day0 = Math.floor((await storeNow(store)) / dayMs) * dayMs - 3 * dayMs;
        const day1 = day0 + dayMs;
        const day2 = day1 + dayMs;
        const u1 = uniqueKey("user-1");
        const u2 = uniqueKey("user-2");
        await store.record(usageRecord({ time: day0 + 10 * hourMs, model: "gpt-a", user: u1, costNanoUsd: 100 }));
        await store.record(usageRecord({ time: day0 + 11 * hourMs, model: "gpt-a", user: u2, costNanoUsd: 200 }));
        await store.record(
          usageRecord({
            time: day1 + 9 * hourMs,
            provider: "anthropic",
            operation: "anthropic.messages",
            model: "claude-b",
            user: u1,
            costNanoUsd: 400,
            estimated: true,
            status: "error",
          }),
        );
        await store.record(usageRecord({ time: day1 + 23 * hourMs, model: "gpt-a", tenant: "t1", costNanoUsd: 800 }));
        await store.record(usageRecord({ time: day2 + hourMs, model: "gpt-a", user: u1, costNanoUsd: 1_600 }));

        const byUser = await store.queryUsage({ groupBy: ["user"] });
        expect(byUser.map((row) => [row.group, row.requests, row.costNanoUsd])).toEqual([
          [{ user: u1 }, 3, 2_100],
          [{}, 1, 800],
          [{ user: u2 }, 1, 200],
        ]);

        const day1ByModel = await store.queryUsage({ groupBy: ["model", "day"], since: day1, until: day2 });
        expect(day1ByModel.map((row) => [row.group, row.costNanoUsd])).toEqual([
          [{ model: "gpt-a", day: isoDay(day1) }, 800],
          [{ model: "claude-b", day: isoDay(day1) }, 400],
        ]);

        const u1ByDay = await store.queryUsage({ groupBy: ["day"], where: { user: u1 } });
        expect(u1ByDay.map((row) => [row.group, row.costNanoUsd])).toEqual([
          [{ day: isoDay(day2) }, 1_600],
          [{ day: isoDay(day1) }, 400],
          [{ day: isoDay(day0) }, 100],
        ]);

        expect(await store.queryUsage({ since: day0, until: day1 })).toEqual([
          {
            group: {},
            requests: 2,
            inputTokens: 200,
            cachedInputTokens: 40,
            cacheWriteInputTokens: 20,
            outputTokens: 100,
            reasoningTokens: 10,
            costNanoUsd: 300,
            estimatedRequests: 0,
            errorRequests: 0,
          },
        ]);
        expect(await queryOne(store, { where: { provider: "anthropic" } })).toMatchObject({
          requests: 1,
          estimatedRequests: 1,
          errorRequests: 1,
        });
        expect(await queryOne(store, { where: { tenant: "t1", model: "gpt-a" }, since: day1 })).toMatchObject({
          requests: 1,
          costNanoUsd: 800,
        });
        expect(await store.queryUsage({ since: day2 + dayMs })).toEqual([]);
        expect(await store.queryUsage({ where: { user: uniqueKey("nobody") } })).toEqual([]);
      });
    });

    it("counts a record once per id, even written again or concurrently; records without an id count each time", async () => {
      await withStore(async (store) => {
        const time = (await storeNow(store)) - hourMs;
        const user = uniqueKey("record-id");
        const once = usageRecord({ time, model: "gpt-a", user, costNanoUsd: 100, id: randomUUID() });
        await store.record(once);
        await store.record(once);
        // A retry that races a late first write: both arrive together.
        const raced = usageRecord({ time, model: "gpt-a", user, costNanoUsd: 200, id: randomUUID() });
        await Promise.all([store.record(raced), store.record(raced), store.record(raced)]);
        // Same content, different ids: two calls.
        await store.record({ ...once, id: randomUUID() });
        await store.record({ ...once, id: randomUUID() });
        const anonymous = usageRecord({ time, model: "gpt-a", user, costNanoUsd: 1_000 });
        await store.record(anonymous);
        await store.record(anonymous);
        expect(await queryOne(store, { where: { user } })).toMatchObject({
          requests: 6,
          costNanoUsd: 100 + 200 + 100 + 100 + 1_000 + 1_000,
          inputTokens: 600,
        });
        // The id is the store's whole key: another record with a known id is taken for the same call.
        await store.record({ ...raced, costNanoUsd: 5 });
        expect(await queryOne(store, { where: { user } })).toMatchObject({ requests: 6, costNanoUsd: 2_500 });
      });
    });

    it("counts shadow charges but never refuses on them, and reports them in shadowRefusals", async () => {
      await withStore(async (store) => {
        const shadow = sliding(uniqueKey("shadow"), 1, 1, 60_000, 10, false);
        const enforced = sliding(uniqueKey("shadow-enforced"), 1, 10);
        const shadowSlot = { ...concurrency(uniqueKey("shadow-slot"), 0), enforce: false };
        expect(admitted(await admit(store, [shadow, enforced]))).toMatchObject({
          shadowRefusals: [],
          usedAfter: [1, 1],
        });
        expect(admitted(await admit(store, [shadow, enforced, shadowSlot]))).toMatchObject({
          shadowRefusals: [0, 2],
          usedAfter: [2, 2, 1],
        });
        // An enforced refusal still wins, and the shadow charge of that call is not counted.
        expect(limitRefusal(await admit(store, [shadow, { ...enforced, amount: 9 }]))).toMatchObject({
          chargeIndex: 1,
          used: 2,
        });
        expect(await usage(store, shadow)).toBe(2);
      });
    });

    it("admits exactly the capacity under 200 concurrent admissions", async () => {
      await withStore(async (store) => {
        const now = await storeNow(store);
        const perMinute = sliding(uniqueKey("race-sliding"), 1, 50);
        const daily = fixed(uniqueKey("race-fixed"), 1, 80, now + hourMs);
        const results = await Promise.all(Array.from({ length: 200 }, () => admit(store, [perMinute, daily])));
        expect(results.filter((result) => result.admitted).length).toBe(50);
        expect(await usage(store, daily)).toBe(50);

        const slots = concurrency(uniqueKey("race-slots"), 50);
        const held = await Promise.all(Array.from({ length: 200 }, () => admit(store, [slots])));
        expect(held.filter((result) => result.admitted).length).toBe(50);
        expect(await usage(store, slots)).toBe(50);
      });
    });

    registerAlertLogCases({ withStore, withLimitedStore: createLimited === undefined ? undefined : withLimitedStore });
  });
}

async function openTimeline(options: StoreContractOptions): Promise<Timeline> {
  const createStoreWithClock = options.createStoreWithClock;
  if (createStoreWithClock !== undefined) {
    let clock = Date.now();
    const store = await createStoreWithClock(() => clock);
    return {
      store,
      now: () => Promise.resolve(clock),
      sleep: (milliseconds) => {
        clock += milliseconds;
        return Promise.resolve();
      },
      waitUntil: (time) => {
        clock = Math.max(clock, time);
        return Promise.resolve();
      },
    };
  }
  const store = await options.createStore();
  return {
    store,
    now: () => storeNow(store),
    sleep: delay,
    async waitUntil(time) {
      for (let now = await storeNow(store); now < time; now = await storeNow(store)) await delay(time - now + 2);
    },
  };
}

/** The store's clock, read through a dry run with nothing to check. */
async function storeNow(store: TollgateStore): Promise<number> {
  const result = await store.admit({
    reservationId: randomUUID(),
    charges: [],
    blockKeys: [],
    leaseMs: 1,
    dryRun: true,
  });
  return result.now;
}

function admit(
  store: TollgateStore,
  charges: readonly CounterCharge[],
  overrides: Partial<AdmitRequest> = {},
): Promise<AdmitResult> {
  return store.admit({ reservationId: randomUUID(), charges, blockKeys: [], leaseMs: 60_000, ...overrides });
}

/** Current usage of a counter, via a dry run of a zero charge (a counter past its capacity reports its usage too). */
async function usage(store: TollgateStore, charge: CounterCharge): Promise<number> {
  const result = await admit(store, [{ ...charge, amount: 0, enforce: true }], { dryRun: true });
  if (result.admitted) return result.usedAfter[0]!;
  return limitRefusal(result).used;
}

function admitted(result: AdmitResult): Admitted {
  if (!result.admitted) throw new Error(`Expected an admission, got the refusal ${JSON.stringify(result.refusal)}`);
  return result;
}

function limitRefusal(result: AdmitResult): LimitRefusal {
  if (result.admitted) throw new Error(`Expected a limit refusal, got an admission ${JSON.stringify(result)}`);
  if (result.refusal.kind !== "limit") throw new Error(`Expected a limit refusal, got ${JSON.stringify(result)}`);
  return result.refusal;
}

async function queryOne(store: TollgateStore, query: UsageQuery): Promise<UsageRow> {
  const rows = await store.queryUsage(query);
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

function sliding(
  key: string,
  amount: number,
  capacity: number,
  windowMs = 60_000,
  slots = 10,
  enforce = true,
): CounterCharge {
  return { key, amount, capacity, enforce, window: { kind: "sliding", windowMs, slots } };
}

function fixed(key: string, amount: number, capacity: number, endsAt: number): CounterCharge {
  return { key, amount, capacity, enforce: true, window: { kind: "fixed", endsAt } };
}

function concurrency(key: string, capacity: number): CounterCharge {
  return { key, amount: 1, capacity, enforce: true, window: { kind: "concurrency" } };
}

function usageRecord(fields: Partial<UsageRecord> & { time: number; model: string }): UsageRecord {
  return {
    provider: "openai",
    operation: "openai.chat",
    inputTokens: 100,
    cachedInputTokens: 20,
    cacheWriteInputTokens: 10,
    outputTokens: 50,
    reasoningTokens: 5,
    costNanoUsd: 0,
    estimated: false,
    status: "ok",
    latencyMs: 30,
    ...fields,
  };
}

function uniqueKey(label: string): string {
  return `contract:${label}:${randomUUID()}`;
}

function isoDay(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

function sortByKey(entries: BlockEntry[]): BlockEntry[] {
  return [...entries].sort((left, right) => (left.key < right.key ? -1 : 1));
}

function delay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, milliseconds)));
}
