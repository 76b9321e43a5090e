// The targets of DESIGN.md §6 and of the benchmark issue, judged on the rows of one run.
import type { Row } from "./report";

export interface TargetResult {
  target: string;
  /** What was measured, with the ratio the target is about. */
  measured: string;
  /** `undefined`: not measured in this run (a section skipped, or a store not there yet). */
  met: boolean | undefined;
}

/** Ids of the rows the targets read; the sections build the same ids. */
export const rowIds = {
  store: (backend: string, variant: string, mode: "sequential" | "concurrent") => `store.${backend}.${variant}.${mode}`,
  scale: (store: string, subjects: number) => `scale.${store}.${subjects}`,
  guard: (kind: string, variant: "raw" | "guarded", mode: "sequential" | "concurrent") =>
    `guard.${kind}.${variant}.${mode}`,
};

/** Subject counts of the scale section (full run; --quick divides them by 10). */
export const scaleSubjects = { small: 1_000, footprintLow: 10_000, footprintHigh: 100_000 };

const times = (value: number): string => `${value.toFixed(2)}×`;

/** "100k subjects" from a scale row id (`scale.<store>.<subjects>`). */
function subjectsOf(row: Row): string {
  const subjects = Number(row.id.split(".").pop());
  return subjects >= 1_000 ? `${subjects / 1_000}k subjects` : `${subjects} subjects`;
}

export function evaluateTargets(rows: readonly Row[]): TargetResult[] {
  const byId = new Map(rows.map((row) => [row.id, row]));
  const get = (id: string): Row | undefined => byId.get(id);
  const results: TargetResult[] = [];

  // Redis admission, 5 limits, sequential p50 ≤ 1.3× one EVALSHA.
  {
    const admit = get(rowIds.store("redis", "tollgate-5-admit", "sequential"));
    const limiterFloor = get(rowIds.store("redis", "floor-incr", "sequential"));
    const bareFloor = get(rowIds.store("redis", "floor-return1", "sequential"));
    const leastAdmission = get(rowIds.store("redis", "floor-least-5", "sequential"));
    const target = "Redis admission, 5 limits, sequential p50 ≤ 1.3× one EVALSHA";
    if (admit?.p50Us === undefined || limiterFloor?.p50Us === undefined || bareFloor?.p50Us === undefined) {
      results.push({ target, measured: "not measured", met: undefined });
    } else {
      const ratio = admit.p50Us / limiterFloor.p50Us;
      results.push({
        target,
        measured:
          `${admit.p50Us.toFixed(0)} µs = ${times(ratio)} a one-key INCRBY+PEXPIRE EVALSHA (${limiterFloor.p50Us.toFixed(0)} µs), ` +
          `${times(admit.p50Us / bareFloor.p50Us)} EVALSHA \`return 1\` (${bareFloor.p50Us.toFixed(0)} µs)` +
          // The floor of the work itself: how close to the target any script with these guarantees can come.
          (leastAdmission?.p50Us === undefined
            ? ""
            : `; the least script doing this work ${leastAdmission.p50Us.toFixed(0)} µs = ${times(leastAdmission.p50Us / limiterFloor.p50Us)}`),
        met: ratio <= 1.3,
      });
    }
  }

  // Redis admissions/s, 64 in flight, 5 limits ≥ 3× RateLimiterUnion of the same limits.
  {
    const admit = get(rowIds.store("redis", "tollgate-5-admit", "concurrent"));
    const union = get(rowIds.store("redis", "rlf-union5", "concurrent"));
    const floor = get(rowIds.store("redis", "floor-incr", "concurrent"));
    const target = "Redis admissions/s, 64 in flight, 5 limits ≥ 3× RateLimiterUnion of the same 5 limits";
    if (admit?.opsPerSec === undefined || union?.opsPerSec === undefined) {
      results.push({ target, measured: "not measured", met: undefined });
    } else {
      const ratio = admit.opsPerSec / union.opsPerSec;
      const floorText =
        floor?.opsPerSec === undefined
          ? ""
          : `; one-key EVALSHA ${Math.round(floor.opsPerSec).toLocaleString("en-US")}/s`;
      results.push({
        target,
        measured: `${Math.round(admit.opsPerSec).toLocaleString("en-US")}/s = ${times(ratio)} Union×5 (${Math.round(union.opsPerSec).toLocaleString("en-US")}/s)${floorText}`,
        met: ratio >= 3,
      });
    }
  }

  // Memory admission ≥ 1M/s with 5 limits.
  {
    const admit = get(rowIds.store("memory", "tollgate-5-admit", "sequential"));
    const peer = get(rowIds.store("memory", "rlf-union5", "sequential"));
    const target = "memory store admissions/s, 5 limits ≥ 1,000,000";
    if (admit?.opsPerSec === undefined) {
      results.push({ target, measured: "not measured", met: undefined });
    } else {
      const peerText =
        peer?.opsPerSec === undefined
          ? ""
          : `; RateLimiterUnion×5 of RateLimiterMemory ${Math.round(peer.opsPerSec).toLocaleString("en-US")}/s`;
      results.push({
        target,
        measured: `${Math.round(admit.opsPerSec).toLocaleString("en-US")}/s${peerText}`,
        met: admit.opsPerSec >= 1_000_000,
      });
    }
  }

  // Guarded non-streamed call ≤ 1.1× the raw call, per SDK.
  for (const [kind, name] of [
    ["openai", "OpenAI"],
    ["anthropic", "Anthropic"],
    ["google", "Gemini"],
  ] as const) {
    const raw = get(rowIds.guard(kind, "raw", "sequential"));
    const guarded = get(rowIds.guard(kind, "guarded", "sequential"));
    const target = `guarded non-streamed ${name} call ≤ 1.1× the raw SDK call (sequential p50, fake server)`;
    if (raw?.p50Us === undefined || guarded?.p50Us === undefined) {
      results.push({ target, measured: "not measured", met: undefined });
    } else {
      const ratio = guarded.p50Us / raw.p50Us;
      results.push({
        target,
        measured:
          `${guarded.p50Us.toFixed(0)} µs vs ${raw.p50Us.toFixed(0)} µs = ${times(ratio)} (+${(guarded.p50Us - raw.p50Us).toFixed(0)} µs)` +
          (guarded.clientCpuUsPerCall === undefined || raw.clientCpuUsPerCall === undefined
            ? ""
            : `; client CPU ${guarded.clientCpuUsPerCall.toFixed(0)} vs ${raw.clientCpuUsPerCall.toFixed(0)} µs/call`),
        met: ratio <= 1.1,
      });
    }
  }

  // Footprint per subject flat in the number of subjects, and admission latency flat.
  for (const store of ["memory", "redis"] as const) {
    const scaleRows = rows.filter((row) => row.id.startsWith(`scale.${store}.`));
    const withBytes = scaleRows.filter((row) => row.bytesPerSubject !== undefined);
    const low = withBytes[0];
    const high = withBytes[withBytes.length - 1];
    const target = `${store} store bytes per active subject flat in the number of subjects (largest ÷ smallest ≤ 1.15)`;
    if (low === undefined || high === undefined || low === high) {
      results.push({ target, measured: "not measured", met: undefined });
    } else {
      const ratio = high.bytesPerSubject! / low.bytesPerSubject!;
      results.push({
        target,
        measured: `${Math.round(low.bytesPerSubject!)} B at ${subjectsOf(low)}, ${Math.round(high.bytesPerSubject!)} B at ${subjectsOf(high)}: ${times(ratio)}`,
        met: ratio <= 1.15,
      });
    }
    const first = scaleRows[0];
    const last = scaleRows[scaleRows.length - 1];
    const latencyTarget = `${store} store admission p50 flat in the number of subjects (largest ÷ smallest ≤ 1.2)`;
    if (first?.p50Us === undefined || last?.p50Us === undefined || first === last) {
      results.push({ target: latencyTarget, measured: "not measured", met: undefined });
    } else {
      const ratio = last.p50Us / first.p50Us;
      results.push({
        target: latencyTarget,
        measured: `${first.p50Us.toFixed(2)} µs at ${subjectsOf(first)}, ${last.p50Us.toFixed(2)} µs at ${subjectsOf(last)}: ${times(ratio)}`,
        met: ratio <= 1.2,
      });
    }
  }

  // DESIGN §6: Postgres admission ≤ 1× rate-limiter-flexible, with more limits per call.
  for (const backend of ["postgres-durable", "postgres-relaxed"] as const) {
    const admit = get(rowIds.store(backend, "tollgate-5-admit", "sequential"));
    const peer = get(rowIds.store(backend, "rlf-1", "sequential"));
    const target = `${backend.replace("-", " ")} admission, 5 limits, sequential p50 ≤ 1× RateLimiterPostgres with 1 limit`;
    if (admit?.p50Us === undefined || peer?.p50Us === undefined) {
      results.push({ target, measured: admit?.note ?? "not measured", met: undefined });
    } else {
      const ratio = admit.p50Us / peer.p50Us;
      results.push({
        target,
        measured: `${admit.p50Us.toFixed(0)} µs vs ${peer.p50Us.toFixed(0)} µs = ${times(ratio)}`,
        met: ratio <= 1,
      });
    }
  }
  return results;
}

export function formatTargets(results: readonly TargetResult[]): string {
  const lines = ["| target | measured | verdict |", "|---|---|---|"];
  for (const result of results) {
    const verdict = result.met === undefined ? "not measured" : result.met ? "met" : "**missed**";
    lines.push(`| ${result.target} | ${result.measured.replaceAll("|", "\\|")} | ${verdict} |`);
  }
  return lines.join("\n");
}
