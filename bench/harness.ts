// A small timing harness: per-call latencies with process.hrtime.bigint, sequential or with a fixed number of calls in
// flight, and cases of one comparison interleaved round by round so that drift on a shared, noisy machine lands on
// every case alike (the ratios are what we publish, not the absolute times).

/** Calls kept in flight in the concurrent mode. */
export const IN_FLIGHT = 64;

export type Mode = "sequential" | "concurrent";

export interface Budget {
  /** Untimed calls per case before the first round. */
  warmupOps: number;
  /** Timed calls per case, spread over the rounds. */
  ops: number;
  /** Rounds; in each, every case of the group runs `ops / rounds` calls, one case after the other. */
  rounds: number;
  /** A case stops its round early after this long, so slow cases cannot stretch a run. */
  maxMsPerRound: number;
}

export interface BenchCase {
  id: string;
  run: () => Promise<unknown>;
  /**
   * Untimed work that returns the system under test to its steady state, e.g. settling the reservations an
   * admission-only case left: run after every call in the sequential timed pass, after every batch in the clock-free
   * pass, and after the round (and the warm-up) in the concurrent mode.
   */
  after?: () => Promise<unknown>;
  /**
   * CPU-bound (no I/O): besides the timed pass, throughput is measured in a second pass without per-call clocks,
   * whose cost (~0.1 µs) would otherwise be a sizeable part of a microsecond operation.
   */
  cpuBound?: boolean;
}

export interface Measurement {
  /** Timed calls. */
  ops: number;
  p50Us: number;
  p99Us: number;
  opsPerSec: number;
}

const now = (): bigint => process.hrtime.bigint();

/** A full collection when the process runs with `--expose-gc` (the bench script passes it). */
function collectGarbage(): void {
  globalThis.gc?.();
}

interface Tally {
  latenciesNs: number[];
  elapsedNs: number;
  ops: number;
  /** The clock-free pass of a CPU-bound case. */
  bareElapsedNs: number;
  bareOps: number;
}

/** Runs every case of a group in the given mode, interleaved round by round, and returns one measurement per case. */
export async function measureGroup(
  cases: readonly BenchCase[],
  mode: Mode,
  budget: Budget,
): Promise<Map<string, Measurement>> {
  const tallies = new Map<string, Tally>();
  for (const benchCase of cases) {
    await runRound(benchCase, mode, budget.warmupOps, budget.maxMsPerRound * 2, undefined);
    tallies.set(benchCase.id, { latenciesNs: [], elapsedNs: 0, ops: 0, bareElapsedNs: 0, bareOps: 0 });
  }
  const perRound = Math.max(1, Math.ceil(budget.ops / budget.rounds));
  for (let round = 0; round < budget.rounds; round++) {
    for (const benchCase of cases) {
      const tally = tallies.get(benchCase.id)!;
      // A CPU-bound case starts its round on a collected heap, so it does not pay for the garbage of the case
      // before it (rate-limiter-flexible's memory limiter, for one, leaves a timer per key).
      if (benchCase.cpuBound === true) collectGarbage();
      const timed = await runRound(benchCase, mode, perRound, budget.maxMsPerRound, tally.latenciesNs);
      tally.elapsedNs += timed.elapsedNs;
      tally.ops += timed.ops;
      if (benchCase.cpuBound === true && mode === "sequential") {
        collectGarbage();
        const bare = await runBare(benchCase, perRound, budget.maxMsPerRound);
        tally.bareElapsedNs += bare.elapsedNs;
        tally.bareOps += bare.ops;
      }
    }
  }
  const results = new Map<string, Measurement>();
  for (const [id, tally] of tallies) {
    const sorted = Float64Array.from(tally.latenciesNs).sort();
    const throughput =
      tally.bareOps > 0 ? tally.bareOps / (tally.bareElapsedNs / 1e9) : tally.ops / (tally.elapsedNs / 1e9);
    results.set(id, {
      ops: tally.ops,
      p50Us: percentile(sorted, 0.5) / 1_000,
      p99Us: percentile(sorted, 0.99) / 1_000,
      opsPerSec: throughput,
    });
  }
  return results;
}

/** Runs one case alone (a group of one). */
export async function measure(benchCase: BenchCase, mode: Mode, budget: Budget): Promise<Measurement> {
  return (await measureGroup([benchCase], mode, budget)).get(benchCase.id)!;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank]!;
}

async function runRound(
  benchCase: BenchCase,
  mode: Mode,
  ops: number,
  maxMs: number,
  latenciesNs: number[] | undefined,
): Promise<{ elapsedNs: number; ops: number }> {
  const { run, after } = benchCase;
  const start = now();
  const deadline = start + BigInt(Math.round(maxMs * 1e6));
  let done = 0;
  if (mode === "sequential") {
    let timedNs = 0;
    while (done < ops) {
      const callStart = now();
      await run();
      const callNs = Number(now() - callStart);
      timedNs += callNs;
      latenciesNs?.push(callNs);
      done++;
      if (after !== undefined) await after();
      if (now() > deadline) break;
    }
    return { elapsedNs: timedNs, ops: done };
  }
  let issued = 0;
  const worker = async (): Promise<void> => {
    while (issued < ops) {
      issued++;
      const callStart = now();
      await run();
      const callEnd = now();
      latenciesNs?.push(Number(callEnd - callStart));
      done++;
      if (callEnd > deadline) issued = ops;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const elapsedNs = Number(now() - start);
  if (after !== undefined) await after();
  return { elapsedNs, ops: done };
}

/**
 * Sequential calls with one clock reading per batch of 256 calls, for the throughput of CPU-bound cases; `after`
 * runs between batches, off the clock.
 */
async function runBare(benchCase: BenchCase, ops: number, maxMs: number): Promise<{ elapsedNs: number; ops: number }> {
  const { run, after } = benchCase;
  const deadline = now() + BigInt(Math.round(maxMs * 1e6));
  let elapsedNs = 0;
  let done = 0;
  while (done < ops) {
    const batchEnd = Math.min(ops, done + 256);
    const batchStart = now();
    for (; done < batchEnd; done++) await run();
    const batchEndAt = now();
    elapsedNs += Number(batchEndAt - batchStart);
    if (after !== undefined) await after();
    if (batchEndAt > deadline) break;
  }
  return { elapsedNs, ops: done };
}
