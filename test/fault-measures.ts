/** How one call ended and how long it took, for measuring fault behaviour. */
export interface TimedOutcome {
  ok: boolean;
  error: unknown;
  ms: number;
}

export async function timed(run: () => Promise<unknown>): Promise<TimedOutcome> {
  const started = performance.now();
  try {
    await run();
    return { ok: true, error: undefined, ms: performance.now() - started };
  } catch (error) {
    return { ok: false, error, ms: performance.now() - started };
  }
}

function errorName(error: unknown): string {
  if (typeof error === "object" && error !== null && "name" in error && typeof error.name === "string") {
    return error.name;
  }
  return String(error);
}

/** "40 failed with StoreUnavailableError in 501–530 ms" (one clause per kind of ending). */
export function describeOutcomes(outcomes: readonly TimedOutcome[]): string {
  const groups = new Map<string, number[]>();
  for (const outcome of outcomes) {
    const label = outcome.ok ? "served" : `failed with ${errorName(outcome.error)}`;
    groups.set(label, [...(groups.get(label) ?? []), outcome.ms]);
  }
  return [...groups].map(([label, times]) => `${times.length} ${label} in ${spanMs(times)}`).join(", ");
}

/** "310–520 ms", or "310 ms" for a single value. */
export function spanMs(times: readonly number[]): string {
  if (times.length === 0) return "–";
  const low = Math.round(Math.min(...times));
  const high = Math.round(Math.max(...times));
  return low === high ? `${low} ms` : `${low}–${high} ms`;
}

export function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/**
 * Reads a value until it has stopped changing for `quietMs` (late writes from a fault have landed), then returns
 * it. Throws when it is still moving after `timeoutMs`.
 */
export async function quiescentValue<T>(read: () => Promise<T>, quietMs: number, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = JSON.stringify(await read());
  let lastValue: T = JSON.parse(last) as T;
  let stableSince = Date.now();
  for (;;) {
    await sleep(200);
    const value = await read();
    const text = JSON.stringify(value);
    if (text !== last) {
      last = text;
      lastValue = value;
      stableSince = Date.now();
    } else if (Date.now() - stableSince >= quietMs) {
      return lastValue;
    }
    if (Date.now() > deadline) throw new Error(`still changing after ${timeoutMs} ms: ${text}`);
  }
}

/** Polls `read` until `done(value)`; returns the value and when it got there. Throws after `timeoutMs`. */
export async function pollUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
  intervalMs = 100,
): Promise<{ value: T; afterMs: number }> {
  const started = performance.now();
  for (;;) {
    const value = await read().catch(() => undefined);
    if (value !== undefined && done(value)) return { value, afterMs: performance.now() - started };
    if (performance.now() - started > timeoutMs) {
      throw new Error(`not reached within ${timeoutMs} ms; last value ${JSON.stringify(value)}`);
    }
    await sleep(intervalMs);
  }
}
