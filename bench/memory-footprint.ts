// Measures the memory store's footprint per active subject: admits and settles one call for N subjects against
// three limits (a sliding window, a daily period and a concurrency slot) and divides the heap growth by N.
import { createMemoryStore } from "@tollgate/core";

async function footprint(subjects: number): Promise<number> {
  const store = createMemoryStore();
  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  const endsAt = Date.now() + 86_400_000;
  for (let index = 0; index < subjects; index++) {
    const user = `user-${index}`;
    const reservationId = `r-${index}`;
    await store.admit({
      reservationId,
      blockKeys: ["block|global", `block|user:${user}`],
      leaseMs: 60_000,
      charges: [
        {
          key: `rpm|user:${user}`,
          amount: 1,
          capacity: 20,
          enforce: true,
          window: { kind: "sliding", windowMs: 60_000, slots: 20 },
        },
        {
          key: `daily|user:${user}|2026-11-28`,
          amount: 900,
          capacity: 100_000,
          enforce: true,
          window: { kind: "fixed", endsAt },
        },
        { key: `parallel|user:${user}`, amount: 1, capacity: 2, enforce: true, window: { kind: "concurrency" } },
      ],
    });
    await store.settle({ reservationId, amounts: [1, 450, 0] });
  }
  globalThis.gc?.();
  const perSubject = (process.memoryUsage().heapUsed - before) / subjects;
  // Keep the store alive until after the measurement, or the collector takes it first.
  await store.close();
  return perSubject;
}

for (const subjects of [10_000, 100_000]) {
  console.log(`memory store: ${subjects} subjects → ${Math.round(await footprint(subjects))} bytes per subject`);
}
