import { describe, expect, it } from "vitest";
import { createMemoryStore } from "./memory-store";
import type { CounterCharge } from "./store";

function fakeClock(start = Date.UTC(2026, 0, 1)) {
  let now = start;
  return { now: () => now, advance: (milliseconds: number) => (now += milliseconds) };
}

const perMinute = (key: string, amount: number, capacity: number): CounterCharge => ({
  key,
  amount,
  capacity,
  enforce: true,
  window: { kind: "sliding", windowMs: 60_000, slots: 20 },
});

let reservation = 0;
const nextId = () => `r${++reservation}`;

describe("memory store", () => {
  it("admits all limits of a call or none, and charges nothing on refusal", async () => {
    const clock = fakeClock();
    const store = createMemoryStore({ clock: clock.now });
    const admit = (amount: number) =>
      store.admit({
        reservationId: nextId(),
        charges: [perMinute("a", 1, 10), perMinute("b", amount, 5)],
        blockKeys: [],
        leaseMs: 60_000,
      });
    expect((await admit(3)).admitted).toBe(true);
    const refused = await admit(3);
    expect(refused).toMatchObject({ admitted: false, refusal: { kind: "limit", chargeIndex: 1, used: 3 } });
    // "a" was not charged by the refused call: 1 used, so 9 more single requests fit.
    const check = await store.admit({
      reservationId: "probe",
      charges: [perMinute("a", 9, 10)],
      blockKeys: [],
      leaseMs: 1,
      dryRun: true,
    });
    expect(check.admitted).toBe(true);
  });

  it("has no burst at a window boundary: any 60 s holds at most the limit", async () => {
    const clock = fakeClock();
    const store = createMemoryStore({ clock: clock.now });
    let admitted = 0;
    const times: number[] = [];
    // Two requests a second for three minutes against 10 per minute.
    for (let step = 0; step < 360; step++) {
      const result = await store.admit({
        reservationId: nextId(),
        charges: [perMinute("k", 1, 10)],
        blockKeys: [],
        leaseMs: 1,
      });
      if (result.admitted) {
        admitted++;
        times.push(clock.now());
      }
      clock.advance(500);
    }
    for (const start of times) {
      const inWindow = times.filter((time) => time >= start && time < start + 60_000).length;
      expect(inWindow).toBeLessThanOrEqual(10);
    }
    // And capacity does come back: about 10 per (window + one slot) over three minutes.
    expect(admitted).toBeGreaterThanOrEqual(27);
  });

  it("applies a refund to the slot it was charged in, and drops it once that slot left the window", async () => {
    const clock = fakeClock();
    const store = createMemoryStore({ clock: clock.now });
    const first = nextId();
    await store.admit({ reservationId: first, charges: [perMinute("t", 10, 10)], blockKeys: [], leaseMs: 600_000 });
    clock.advance(70_000); // the charge's slot has left the window
    await store.settle({ reservationId: first, amounts: [2] });
    let admittedInNewWindow = 0;
    for (let call = 0; call < 3; call++) {
      const result = await store.admit({
        reservationId: nextId(),
        charges: [perMinute("t", 5, 10)],
        blockKeys: [],
        leaseMs: 1,
      });
      if (result.admitted) admittedInNewWindow += 5;
    }
    // The late refund of 8 freed nothing: the new window holds exactly its capacity.
    expect(admittedInNewWindow).toBe(10);
  });

  it("settles idempotently", async () => {
    const store = createMemoryStore();
    const id = nextId();
    await store.admit({ reservationId: id, charges: [perMinute("i", 10, 10)], blockKeys: [], leaseMs: 60_000 });
    await store.settle({ reservationId: id, amounts: [4] });
    await store.settle({ reservationId: id, amounts: [0] });
    const refused = await store.admit({
      reservationId: nextId(),
      charges: [perMinute("i", 7, 10)],
      blockKeys: [],
      leaseMs: 1,
    });
    expect(refused).toMatchObject({ admitted: false, refusal: { used: 4 } });
  });

  it("frees a concurrency slot when a lease expires (crashed caller)", async () => {
    const clock = fakeClock();
    const store = createMemoryStore({ clock: clock.now });
    const slot: CounterCharge = { key: "c", amount: 1, capacity: 1, enforce: true, window: { kind: "concurrency" } };
    expect(
      (await store.admit({ reservationId: nextId(), charges: [slot], blockKeys: [], leaseMs: 5_000 })).admitted,
    ).toBe(true);
    const busy = await store.admit({ reservationId: nextId(), charges: [slot], blockKeys: [], leaseMs: 5_000 });
    expect(busy).toMatchObject({ admitted: false, refusal: { retryAfterMs: 5_000 } });
    clock.advance(5_000);
    expect(
      (await store.admit({ reservationId: nextId(), charges: [slot], blockKeys: [], leaseMs: 5_000 })).admitted,
    ).toBe(true);
  });

  it("resets a fixed period at its end and never refunds into the next period", async () => {
    const clock = fakeClock();
    const store = createMemoryStore({ clock: clock.now });
    const endsAt = clock.now() + 1_000;
    const daily = (key: string, amount: number): CounterCharge => ({
      key,
      amount,
      capacity: 10,
      enforce: true,
      window: { kind: "fixed", endsAt },
    });
    const id = nextId();
    await store.admit({ reservationId: id, charges: [daily("d|day1", 10)], blockKeys: [], leaseMs: 60_000 });
    const refused = await store.admit({
      reservationId: nextId(),
      charges: [daily("d|day1", 1)],
      blockKeys: [],
      leaseMs: 1,
    });
    expect(refused).toMatchObject({ admitted: false, refusal: { retryAfterMs: 1_000 } });
    clock.advance(1_000);
    await store.settle({ reservationId: id, amounts: [0] });
    expect(
      (await store.admit({ reservationId: nextId(), charges: [daily("d|day1", 1)], blockKeys: [], leaseMs: 1 }))
        .admitted,
    ).toBe(true);
  });

  it("refuses blocked subjects and lifts a block when its TTL ends", async () => {
    const clock = fakeClock();
    const store = createMemoryStore({ clock: clock.now });
    await store.block({ key: "block|user:u1", reason: "abuse", until: clock.now() + 1_000, createdAt: clock.now() });
    const refused = await store.admit({
      reservationId: nextId(),
      charges: [],
      blockKeys: ["block|user:u1"],
      leaseMs: 1,
    });
    expect(refused).toMatchObject({ admitted: false, refusal: { kind: "blocked", entry: { reason: "abuse" } } });
    clock.advance(1_000);
    expect(
      (await store.admit({ reservationId: nextId(), charges: [], blockKeys: ["block|user:u1"], leaseMs: 1 })).admitted,
    ).toBe(true);
    expect(await store.listBlocked()).toEqual([]);
  });

  it("sets a once-marker once per TTL", async () => {
    const clock = fakeClock();
    const store = createMemoryStore({ clock: clock.now });
    expect(await store.markOnce("alert:x", 1_000)).toBe(true);
    expect(await store.markOnce("alert:x", 1_000)).toBe(false);
    clock.advance(1_000);
    expect(await store.markOnce("alert:x", 1_000)).toBe(true);
  });
});
