import { randomUUID } from "node:crypto";
import {
  type Guard,
  type GuardEvent,
  guardedClient,
  type Limit,
  StoreUnavailableError,
  type TollgateStore,
} from "@tollgate/core";
import { type FakeProviders, fakeRuleHeader, startFakeProviders } from "@tollgate/testing";
import type OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClients } from "./clients";
import { describeOutcomes, pollUntil, quiescentValue, sleep, type TimedOutcome, timed } from "./fault-measures";
import { usedNow } from "./limit-usage";
import { probePostgres, probeRedis, type ServiceProbe } from "./service-probes";
import { type StoreRig, startPostgresRig, startRedisRig } from "./store-fault-rig";

// A slow, black-holed or resetting link between the guard and a real Redis / Postgres (a TCP proxy on loopback),
// with calls in flight: calls obey `onStoreError` and `storeTimeoutMs`, nothing is charged twice after the link
// heals, and the same guard recovers without a restart. Every figure is printed at the end of the file's run.

const leaseMs = 3_000;
/**
 * The black-hole tests hold the hole open for a while after their calls settled into it: a longer lease keeps those
 * calls' slots held until the settlement retries free them, as after a real outage of a few seconds.
 */
const blackHoleLeaseMs = 20_000;
/**
 * Per store: the guard's `storeTimeoutMs`, and how many calls are in flight when the link black-holes. Postgres admits
 * one subject's calls one after the other (row locks, a WAL flush per commit), so on a loaded 2-core machine a burst
 * of 100 would time out before the fault even starts; it gets a longer timeout and a smaller burst.
 */
const settings = {
  redis: { storeTimeoutMs: 500, inFlight: 100, refusedBurst: 200 },
  postgres: { storeTimeoutMs: 1_000, inFlight: 40, refusedBurst: 100 },
} as const;
const limits: Limit[] = [
  { id: "requests", scope: "user", requests: 1_000_000, per: "1h" },
  { id: "parallel", scope: "user", concurrent: 100_000 },
];
const probes: Record<"redis" | "postgres", ServiceProbe> = {
  redis: await probeRedis(),
  postgres: await probePostgres(),
};
const starters = { redis: startRedisRig, postgres: startPostgresRig };
const measured: string[] = [];

let fake: FakeProviders;
beforeAll(async () => {
  fake = await startFakeProviders();
});
afterAll(async () => {
  await fake?.close();
  if (measured.length > 0) console.log(`Store faults, measured:\n${measured.map((line) => `- ${line}`).join("\n")}`);
});

type OpenAIGuard = Guard<{ openai: OpenAI }>;

interface Harness {
  /** Tags this test's prompts, so the provider's log tells its calls from those of the other store's run. */
  id: string;
  rig: StoreRig;
  deny: OpenAIGuard;
  allow: OpenAIGuard;
  /** Reads the counters straight from the store, past the proxy. */
  reader: Guard<Record<string, never>>;
  events: GuardEvent[];
  storeTimeoutMs: number;
  leaseMs: number;
  /** Waits for the guards' settlements, then closes their connections. */
  close(): Promise<void>;
}

function harness(rig: StoreRig, timeoutMs: number, lease = leaseMs): Harness {
  const events: GuardEvent[] = [];
  const common = {
    providers: { openai: createClients(fake).openai },
    limits,
    storeTimeoutMs: timeoutMs,
    leaseMs: lease,
    onEvent: (event: GuardEvent) => events.push(event),
  };
  const denyStore = rig.openProxiedStore();
  const allowStore = rig.openProxiedStore();
  const over = (store: TollgateStore, onStoreError: "deny" | "allow") =>
    guardedClient({ ...common, store, onStoreError });
  const deny = over(denyStore.store, "deny");
  const allow = over(allowStore.store, "allow");
  return {
    id: randomUUID().slice(0, 8),
    rig,
    deny,
    allow,
    reader: guardedClient({ providers: {}, limits, store: rig.directStore }),
    events,
    storeTimeoutMs: timeoutMs,
    leaseMs: lease,
    async close() {
      await Promise.all([deny.close(), allow.close()]);
      await Promise.all([denyStore.close(), allowStore.close()]);
    },
  };
}

/**
 * One guarded chat call with a unique prompt (the loop detector refuses repeats) that starts with `tag`, so the
 * provider's log tells which calls of a phase reached it; `latencyMs` holds the call at the provider.
 */
function call(guard: OpenAIGuard, user: string, tag = "untagged", latencyMs = 0) {
  return guard
    .for({ user })
    .openai.chat.completions.create(
      { model: "gpt-4o-mini", max_tokens: 5, messages: [{ role: "user", content: `${tag} ${randomUUID()}` }] },
      latencyMs > 0 ? { headers: fakeRuleHeader({ fault: { latencyMs } }) } : undefined,
    );
}

/** How many requests that reached the provider carry `tag` in their prompt. */
function sentWith(tag: string): number {
  return fake.requests.filter((request) => JSON.stringify(request.body).includes(`"${tag} `)).length;
}

const many = (count: number, run: () => Promise<unknown>) =>
  Promise.all(Array.from({ length: count }, () => timed(run)));

const refusedByStore = (outcome: TimedOutcome) => !outcome.ok && StoreUnavailableError.isInstance(outcome.error);
const served = (outcomes: readonly TimedOutcome[]) => outcomes.filter((outcome) => outcome.ok).length;

/** Calls until one is served; how long that took after `since`. */
async function recovery(guard: OpenAIGuard, user: string, since: number, timeoutMs = 15_000): Promise<number> {
  for (;;) {
    const outcome = await timed(() => call(guard, user));
    if (outcome.ok) return performance.now() - since;
    expect(StoreUnavailableError.isInstance(outcome.error)).toBe(true);
    if (performance.now() - since > timeoutMs) throw new Error(`no recovery within ${timeoutMs} ms`);
    await sleep(25);
  }
}

/** Admissions the guard saw the store grant for `user`: each must be counted exactly once. */
const admittedFor = (events: readonly GuardEvent[], user: string) =>
  events.filter((event) => event.type === "call.admitted" && event.subject.user === user).length;

/**
 * The `requests` counter of `user` once late writes have landed (a fault can deliver commands long after they were
 * sent), and how long until no concurrency slot is held (slots of settlements lost in a fault wait for their lease).
 */
async function countersAfterFault(h: Harness, user: string) {
  const read = () => usedNow(h.reader, { user }, limits);
  const { requests } = await quiescentValue(read, 1_000, 20_000);
  const heldAtFirst = (await read()).parallel ?? 0;
  const freed = await pollUntil(read, (used) => used.parallel === 0, h.leaseMs + 5_000);
  return { requests, heldAtFirst, freedAfterMs: freed.afterMs };
}

/**
 * Waits, with the guards' stores still open, until `complete(ledger)` holds and no ledger write has failed for long
 * enough that the retry of the last failure (1 s after it, or 5 s after a failed first retry) has run: a retry of a
 * write that had been applied after all must change nothing. Returns when the ledger was complete (ms after `since`)
 * and how many ledger writes failed since `eventsBefore`, or `undefined` when that does not happen in `timeoutMs`.
 */
async function ledgerAfterRetries<T>(
  h: Harness,
  eventsBefore: number,
  read: () => Promise<T>,
  complete: (ledger: T) => boolean,
  since: number,
  timeoutMs = 30_000,
): Promise<{ completeAfterMs: number; failedWrites: number } | undefined> {
  const failedWrites = () =>
    h.events.slice(eventsBefore).filter((event) => event.type === "store.error" && event.operation === "record").length;
  const quietMs = 5_000 + h.storeTimeoutMs + 500;
  let failures = failedWrites();
  let lastFailureAt = performance.now();
  let completeAfterMs: number | undefined;
  const done = await pollUntil(
    async () => {
      const ledger = await read();
      if (failedWrites() !== failures) {
        failures = failedWrites();
        lastFailureAt = performance.now();
      }
      if (!complete(ledger)) return false;
      completeAfterMs ??= performance.now() - since;
      return performance.now() - lastFailureAt >= quietMs;
    },
    (finished) => finished,
    timeoutMs,
    50,
  ).catch(() => undefined);
  return done === undefined || completeAfterMs === undefined ? undefined : { completeAfterMs, failedWrites: failures };
}

for (const kind of ["redis", "postgres"] as const) {
  const probe = probes[kind];
  const setting = settings[kind];
  describe.skipIf(probe.skip)(`${kind} behind a misbehaving link`, () => {
    let rig: StoreRig | undefined;
    const open = async () => {
      probe.assertReachable();
      rig ??= await starters[kind]();
      return rig;
    };
    afterAll(async () => {
      await rig?.close();
    });

    it("a link slower than usual but within the timeout: every call is served and charged once", async () => {
      // A timeout far above the added latency: this is about a slow link, not about a loaded test machine.
      const h = harness(await open(), 5_000);
      const user = `slow-ok-${randomUUID()}`;
      await many(30, () => call(h.deny, user)); // opens the connections a burst needs before the link slows down
      h.rig.proxy.delay(100);
      let outcomes: TimedOutcome[];
      try {
        outcomes = await many(30, () => call(h.deny, user));
      } finally {
        h.rig.proxy.heal();
      }
      await h.close();
      expect(outcomes.filter((outcome) => !outcome.ok).map((outcome) => outcome.error)).toEqual([]);
      const counters = await countersAfterFault(h, user);
      // Each granted admission counts once (warm-up calls may have timed out on a loaded machine: not counted).
      expect(counters.requests).toBe(admittedFor(h.events, user));
      expect(counters.heldAtFirst).toBe(0);
      measured.push(
        `${h.rig.label}, link +100 ms each way, 30 calls at once: ${describeOutcomes(outcomes)}; each charged once`,
      );
    }, 60_000);

    it("a link slower than the timeout: deny fails within it, allow serves unmetered, late admissions are released, late ledger writes count once", async () => {
      const h = harness(await open(), setting.storeTimeoutMs);
      const denied = `slow-deny-${randomUUID()}`;
      const allowed = `slow-allow-${randomUUID()}`;
      await Promise.all([many(10, () => call(h.deny, denied)), many(10, () => call(h.allow, allowed))]);
      const allowedLedger = async () =>
        (await h.rig.directStore.queryUsage({ where: { user: allowed } }))[0]?.requests ?? 0;
      const allowedLedgerBefore = await quiescentValue(allowedLedger, 500, 10_000);
      const eventsBefore = h.events.length;
      h.rig.proxy.delay(setting.storeTimeoutMs); // each way: a round trip takes twice the timeout
      let denyOutcomes: TimedOutcome[];
      let allowOutcomes: TimedOutcome[];
      try {
        [denyOutcomes, allowOutcomes] = await Promise.all([
          many(30, () => call(h.deny, denied, `slow-denied-${h.id}`)),
          many(10, () => call(h.allow, allowed, `slow-allowed-${h.id}`)),
        ]);
      } finally {
        h.rig.proxy.heal();
      }
      const healedAt = performance.now();
      const recoveredAfterMs = await recovery(h.deny, denied, healedAt);
      // The allowed calls' ledger writes took two timeouts to reach the store: each timed out, was applied late, and
      // was retried after the heal. The retry must find its record there and add nothing.
      const retried = await ledgerAfterRetries(
        h,
        eventsBefore,
        allowedLedger,
        (ledger) => ledger - allowedLedgerBefore >= 10,
        healedAt,
      );
      expect(Math.max(...denyOutcomes.map((outcome) => outcome.ms))).toBeLessThan(setting.storeTimeoutMs + 5_000);
      expect(allowOutcomes.every((outcome) => outcome.ok)).toBe(true);
      // Refused calls never reached the provider; allowed ones did, once each, unmetered.
      expect(sentWith(`slow-denied-${h.id}`)).toBe(0);
      expect(sentWith(`slow-allowed-${h.id}`)).toBe(10);
      expect(h.events.slice(eventsBefore).filter((event) => event.type === "call.unmetered")).toHaveLength(10);
      await h.close();
      expect(retried).toBeDefined();
      const allowedLedgerFromFault = (await quiescentValue(allowedLedger, 500, 10_000)) - allowedLedgerBefore;
      expect(allowedLedgerFromFault).toBe(10);
      // The store applied the admissions it got late, after the guard gave up: the guard releases each (a zero
      // settlement by reservation id), so once the late writes have landed only the granted admissions count.
      const deniedCounters = await countersAfterFault(h, denied);
      const allowedCounters = await countersAfterFault(h, allowed);
      expect(deniedCounters.requests).toBe(admittedFor(h.events, denied));
      expect(allowedCounters.requests).toBe(admittedFor(h.events, allowed));
      measured.push(
        `${h.rig.label}, link +${setting.storeTimeoutMs} ms each way (storeTimeoutMs ${setting.storeTimeoutMs}): deny: ${describeOutcomes(denyOutcomes)}; allow: ${describeOutcomes(allowOutcomes)} (unmetered), the ledger holds ${allowedLedgerFromFault} of these 10 calls (${retried?.failedWrites} ledger writes timed out and were retried, none counted twice); the late admissions were all released (requests counted = ${deniedCounters.requests} granted, 0 charged for refused calls); next call served ${Math.round(recoveredAfterMs)} ms after the link healed`,
      );
    }, 60_000);

    it(`a black hole with ${setting.inFlight} calls in flight: ${setting.refusedBurst} new calls fail within the timeout, the guard recovers after the heal, nothing is charged twice, slots free after the lease, the ledger holds every served call once`, async () => {
      const h = harness(await open(), setting.storeTimeoutMs, blackHoleLeaseMs);
      const user = `hole-${randomUUID()}`;
      const allowed = `hole-allow-${randomUUID()}`;
      await Promise.all([many(20, () => call(h.deny, user)), many(5, () => call(h.allow, allowed))]);
      // Calls admitted before the fault and held at the provider while it happens: they settle into the hole.
      const decided = () =>
        h.events.filter(
          (event) => (event.type === "call.admitted" || event.type === "call.refused") && event.subject.user === user,
        ).length;
      const ledgerRequests = async (who: string) =>
        (await h.rig.directStore.queryUsage({ where: { user: who } }))[0]?.requests ?? 0;
      /** Ledger rows of the deny guard's user and of the allow guard's. */
      const ledgers = async () => [await ledgerRequests(user), await ledgerRequests(allowed)] as const;
      const [ledgerBefore, allowedLedgerBefore] = await quiescentValue(ledgers, 500, 10_000);
      const decidedBefore = decided();
      const admittedBefore = admittedFor(h.events, user);
      const eventsBefore = h.events.length;
      const inFlight = Array.from({ length: setting.inFlight }, () =>
        timed(() => call(h.deny, user, `hole-held-${h.id}`, 1_500)),
      );
      await pollUntil(
        async () => decided() - decidedBefore,
        (count) => count >= setting.inFlight,
        20_000,
        10,
      );
      const heldIntoTheHole = admittedFor(h.events, user) - admittedBefore;
      h.rig.proxy.blackHole();
      let refused: TimedOutcome[];
      let allowedOutcomes: TimedOutcome[];
      let heldOutcomes: TimedOutcome[];
      try {
        [refused, allowedOutcomes] = await Promise.all([
          many(setting.refusedBurst, () => call(h.deny, user, `hole-denied-${h.id}`)),
          many(20, () => call(h.allow, allowed, `hole-allowed-${h.id}`)),
        ]);
        heldOutcomes = await Promise.all(inFlight);
        // The held calls settle once they have returned: keep the hole open until their settlements and first ledger
        // writes have timed out in it. Such a write may still be applied after the heal (Postgres' pool sends the
        // queries that were waiting for a connection), and its retry must not count the call twice.
        await sleep(2 * setting.storeTimeoutMs + 500);
      } finally {
        h.rig.proxy.heal();
      }
      const healedAt = performance.now();
      const heldRightAfterHeal = (await usedNow(h.reader, { user }, limits)).parallel ?? 0;
      const recoveredAfterMs = await recovery(h.deny, user, healedAt);
      const servedAfter = await many(10, () => call(h.deny, user, `hole-after-${h.id}`));
      const servedFromFault = heldIntoTheHole + 1 + served(servedAfter);
      // The ledger writes that failed in the hole are retried: before the guards' stores are closed, wait for the
      // ledger to hold every call served from the fault on, and for the retries to have run.
      const retried = await ledgerAfterRetries(
        h,
        eventsBefore,
        ledgers,
        ([deny, allow]) => deny - ledgerBefore >= servedFromFault && allow - allowedLedgerBefore >= 20,
        healedAt,
      );
      await h.close();

      expect(refused.every(refusedByStore)).toBe(true);
      expect(Math.max(...refused.map((outcome) => outcome.ms))).toBeLessThan(setting.storeTimeoutMs + 5_000);
      expect(allowedOutcomes.every((outcome) => outcome.ok)).toBe(true);
      // Every call admitted before the fault returns its result although its settlement fell into the hole; the
      // others were refused at admission (timed out on a loaded machine).
      expect(served(heldOutcomes)).toBe(heldIntoTheHole);
      expect(heldOutcomes.filter((outcome) => !outcome.ok).every(refusedByStore)).toBe(true);
      expect(heldIntoTheHole).toBeGreaterThanOrEqual(setting.inFlight / 4);
      expect(sentWith(`hole-held-${h.id}`)).toBe(heldIntoTheHole);
      expect(sentWith(`hole-denied-${h.id}`)).toBe(0);
      expect(sentWith(`hole-allowed-${h.id}`)).toBe(20);
      expect(sentWith(`hole-after-${h.id}`)).toBe(served(servedAfter));
      // Every granted admission counts exactly once (a settlement lost in the hole keeps its reservation: one request,
      // as settled), and the refused calls count nothing.
      const counters = await countersAfterFault(h, user);
      expect(counters.requests).toBe(admittedFor(h.events, user));
      expect(admittedFor(h.events, user) - admittedBefore).toBe(servedFromFault);
      // Every call the provider served from the fault on is in the ledger exactly once, each with an id of its own: the
      // failed writes were retried, and a retry never counts twice. Read once no write can land any more (the guards'
      // stores are closed).
      const [ledgerAfter, allowedLedgerAfter] = await quiescentValue(ledgers, 1_000, 20_000);
      const ledgerFromFault = ledgerAfter - ledgerBefore;
      const allowedLedgerFromFault = allowedLedgerAfter - allowedLedgerBefore;
      const recordIds = h.events
        .slice(eventsBefore)
        .flatMap((event) => (event.type === "call.settled" && event.record.user === user ? [event.record.id] : []));
      expect(recordIds).toHaveLength(servedFromFault);
      expect(new Set(recordIds).size).toBe(servedFromFault);
      expect(ledgerFromFault).toBe(servedFromFault);
      expect(allowedLedgerFromFault).toBe(20);
      expect(retried).toBeDefined();
      measured.push(
        `${h.rig.label} black-holed with ${heldIntoTheHole} calls in flight (storeTimeoutMs ${setting.storeTimeoutMs}): ${setting.refusedBurst} new calls (deny): ${describeOutcomes(refused)}; 20 (allow): ${describeOutcomes(allowedOutcomes)} (unmetered); the ${heldIntoTheHole} in flight: ${describeOutcomes(heldOutcomes.filter((outcome) => outcome.ok))}; the ledger holds ${ledgerFromFault} of the ${servedFromFault} calls the deny guard served from the fault on and ${allowedLedgerFromFault} of the 20 the allow guard served, complete ${((retried?.completeAfterMs ?? Number.NaN) / 1000).toFixed(1)} s after the heal (${retried?.failedWrites} ledger write attempts failed, each retried; none counted twice); requests counted = ${counters.requests} admitted (0 charged twice, 0 for refused calls); first call served ${Math.round(recoveredAfterMs)} ms after the heal; ${heldRightAfterHeal} concurrency slots held right after the heal, ${counters.heldAtFirst} once the link was quiet, all free ${(counters.freedAfterMs / 1000).toFixed(1)} s after that (leaseMs ${h.leaseMs})`,
      );
    }, 90_000);

    it("connections reset mid-request: calls fail fast, the guard recovers after the heal, nothing is charged twice", async () => {
      const h = harness(await open(), setting.storeTimeoutMs);
      const user = `reset-${randomUUID()}`;
      await many(10, () => call(h.deny, user));
      const resetsBefore = h.rig.proxy.resets;
      h.rig.proxy.resetConnections();
      let outcomes: TimedOutcome[];
      try {
        outcomes = await many(40, () => call(h.deny, user, `reset-denied-${h.id}`));
      } finally {
        h.rig.proxy.heal();
      }
      const healedAt = performance.now();
      const recoveredAfterMs = await recovery(h.deny, user, healedAt);
      await h.close();
      expect(outcomes.every(refusedByStore)).toBe(true);
      expect(sentWith(`reset-denied-${h.id}`)).toBe(0);
      expect(Math.max(...outcomes.map((outcome) => outcome.ms))).toBeLessThan(setting.storeTimeoutMs + 5_000);
      // Whatever the store applied of the reset calls was released or never happened.
      const counters = await countersAfterFault(h, user);
      expect(counters.requests).toBe(admittedFor(h.events, user));
      measured.push(
        `${h.rig.label}, every connection reset at its next byte (${h.rig.proxy.resets - resetsBefore} resets), 40 calls (deny): ${describeOutcomes(outcomes)}; first call served ${Math.round(recoveredAfterMs)} ms after the heal; requests counted ${counters.requests} = admitted (0 charged for the failed calls)`,
      );
    }, 60_000);
  });
}
