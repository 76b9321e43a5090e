import type { AdmitRequest, AdmitResult, CounterCharge } from "@tollgate/core";
import { parseBlockEntry } from "./block-list";
import { nonNegativeInteger, positiveMilliseconds, replyNumber } from "./numbers";

/**
 * Orders strings by code point, which is the byte order of their UTF-8 encoding and so the order of Postgres' `C`
 * collation (JavaScript's `<` compares UTF-16 units, which differs above U+FFFF). Settlement sorts with `C` on the
 * server: both take their locks in the same order.
 */
export function compareCodePoints(left: string, right: string): number {
  const leftPoints = [...left];
  const rightPoints = [...right];
  const length = Math.min(leftPoints.length, rightPoints.length);
  for (let index = 0; index < length; index++) {
    const difference = (leftPoints[index]?.codePointAt(0) ?? 0) - (rightPoints[index]?.codePointAt(0) ?? 0);
    if (difference !== 0) return difference;
  }
  return leftPoints.length - rightPoints.length;
}

/**
 * Validates a request (amounts must be exact in a bigint) and lays it out as the admit function's parameters (see
 * `admitParameters`): charges become parallel arrays. Counter keys are namespaced by kind, and sliding ones by slot
 * length, so a new window shape starts afresh (as in the Redis store); the core's key is appended as it is.
 */
export function admitValues(request: AdmitRequest, settleGraceMs: number, relaxed: boolean): unknown[] {
  const keys: string[] = [];
  const kinds: CounterCharge["window"]["kind"][] = [];
  const amounts: number[] = [];
  const capacities: (number | null)[] = [];
  const enforced: boolean[] = [];
  const slotLengths: (number | null)[] = [];
  const slotCounts: (number | null)[] = [];
  const periodEnds: (number | null)[] = [];
  request.charges.forEach((charge, index) => {
    const field = `charges[${index}]`;
    amounts.push(nonNegativeInteger(charge.amount, `${field}.amount`));
    if (typeof charge.capacity !== "number" || Number.isNaN(charge.capacity) || charge.capacity < 0) {
      throw new RangeError(`${field}.capacity must be a non-negative number, got ${charge.capacity}`);
    }
    capacities.push(charge.capacity === Number.POSITIVE_INFINITY ? null : charge.capacity);
    enforced.push(charge.enforce === true);
    const window = charge.window;
    kinds.push(window.kind);
    if (window.kind === "sliding") {
      positiveMilliseconds(window.windowMs, `${field}.window.windowMs`);
      const slots = nonNegativeInteger(window.slots, `${field}.window.slots`);
      if (slots < 1) throw new RangeError(`${field}.window.slots must be at least 1`);
      const slotMs = slotLengthMs(window.windowMs, slots);
      keys.push(`sliding:${slotMs}:${charge.key}`);
      slotLengths.push(slotMs);
      slotCounts.push(slots);
      periodEnds.push(null);
    } else if (window.kind === "fixed") {
      if (!Number.isFinite(window.endsAt)) throw new RangeError(`${field}.window.endsAt must be finite`);
      keys.push(`fixed:${charge.key}`);
      slotLengths.push(null);
      slotCounts.push(null);
      periodEnds.push(Math.ceil(window.endsAt));
    } else {
      keys.push(`concurrency:${charge.key}`);
      slotLengths.push(null);
      slotCounts.push(null);
      periodEnds.push(null);
    }
  });
  // Distinct counters in lock order, and each charge's counter by (1-based) position.
  const counterKeys = [...new Set(keys)].sort(compareCodePoints);
  const positions = new Map(counterKeys.map((key, index) => [key, index + 1]));
  return [
    request.reservationId,
    positiveMilliseconds(request.leaseMs, "leaseMs"),
    settleGraceMs,
    request.dryRun === true,
    relaxed,
    [...request.blockKeys],
    counterKeys,
    keys.map((key) => positions.get(key)),
    kinds,
    amounts,
    capacities,
    enforced,
    slotLengths,
    slotCounts,
    periodEnds,
  ];
}

export function parseAdmitReply(reply: unknown): AdmitResult {
  if (typeof reply !== "object" || reply === null) throw new Error(`Unexpected admit reply: ${JSON.stringify(reply)}`);
  const fields = reply as Record<string, unknown>;
  const now = replyNumber(fields.now, "admit now");
  if (fields.admitted === true) {
    return {
      admitted: true,
      now,
      shadowRefusals: numbers(fields.shadowRefusals, "shadowRefusals"),
      usedAfter: numbers(fields.usedAfter, "usedAfter"),
    };
  }
  if (typeof fields.blocked === "object" && fields.blocked !== null) {
    return { admitted: false, now, refusal: { kind: "blocked", entry: parseBlockEntry(fields.blocked) } };
  }
  return {
    admitted: false,
    now,
    refusal: {
      kind: "limit",
      chargeIndex: replyNumber(fields.chargeIndex, "chargeIndex"),
      used: replyNumber(fields.used, "used"),
      retryAfterMs:
        fields.retryAfterMs === null || fields.retryAfterMs === undefined
          ? undefined
          : replyNumber(fields.retryAfterMs, "retryAfterMs"),
    },
  };
}

/** Slot length of a sliding window, as the memory and Redis stores compute it. */
export function slotLengthMs(windowMs: number, slots: number): number {
  return Math.max(1, Math.floor(windowMs / slots));
}

function numbers(value: unknown, field: string): number[] {
  if (!Array.isArray(value)) throw new Error(`Unexpected ${field} from Postgres: ${JSON.stringify(value)}`);
  return value.map((item: unknown) => replyNumber(item, field));
}
