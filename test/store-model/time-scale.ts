/** The shape of each counter a run may charge: one window per key, as the core builds them. */
export type KeyShape =
  | { kind: "sliding"; windowMs: number; slots: number }
  | { kind: "fixed"; periodMs: number }
  | { kind: "concurrency" };

export const keyNames = ["rate-a", "rate-b", "rate-c", "period-a", "period-b", "slots-a", "slots-b"] as const;
export type KeyName = (typeof keyNames)[number];

export const blockNames = ["global", "user-a", "user-b"] as const;
export type BlockName = (typeof blockNames)[number];

/**
 * The durations of one kind of run. A store with an injected clock moves it freely over seconds to minutes (a move
 * of a minute or more also triggers the memory store's sweep); a store on a server clock lives in real time, so its
 * windows, leases and blocks last hundreds of milliseconds and the clock moves are real sleeps.
 */
export interface TimeScale {
  keys: Record<KeyName, KeyShape>;
  leaseMs: readonly number[];
  /** How long a block lasts from its creation; negative: already over; `undefined`: until unblocked. */
  blockForMs: readonly (number | undefined)[];
  /** Upper bound of an ordinary clock move. */
  moveMs: number;
  /** Rare long moves. */
  longMovesMs: readonly number[];
  /** Upper bound of one move towards a landmark (a real sleep must stay short). */
  landmarkMoveMs: number;
}

export const virtualTimeScale: TimeScale = {
  keys: {
    "rate-a": { kind: "sliding", windowMs: 60_000, slots: 10 },
    // 1000 / 3: slots of 333 ms, so the slots cover 999 ms, not the whole window.
    "rate-b": { kind: "sliding", windowMs: 1_000, slots: 3 },
    // Fewer milliseconds than slots: slots of 1 ms (the floor), 20 of them.
    "rate-c": { kind: "sliding", windowMs: 10, slots: 20 },
    "period-a": { kind: "fixed", periodMs: 30_000 },
    "period-b": { kind: "fixed", periodMs: 2_000 },
    "slots-a": { kind: "concurrency" },
    "slots-b": { kind: "concurrency" },
  },
  leaseMs: [1, 300, 1_000, 5_000, 30_000],
  blockForMs: [1, 500, 5_000, 60_000, undefined, -1],
  moveMs: 1_500,
  longMovesMs: [6_000, 30_000, 60_000, 61_000, 300_000],
  landmarkMoveMs: 600_000,
};

export const realTimeScale: TimeScale = {
  keys: {
    "rate-a": { kind: "sliding", windowMs: 400, slots: 4 },
    "rate-b": { kind: "sliding", windowMs: 250, slots: 3 },
    "rate-c": { kind: "sliding", windowMs: 10, slots: 20 },
    "period-a": { kind: "fixed", periodMs: 300 },
    "period-b": { kind: "fixed", periodMs: 1_000 },
    "slots-a": { kind: "concurrency" },
    "slots-b": { kind: "concurrency" },
  },
  leaseMs: [1, 60, 200, 500],
  blockForMs: [1, 100, 400, undefined, -1],
  moveMs: 60,
  longMovesMs: [150, 300],
  landmarkMoveMs: 400,
};
