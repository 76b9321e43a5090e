import { ConfigurationError } from "../errors/configuration-error";
import type { CompiledLimit } from "../limits/compile-limits";
import { parseDuration } from "../limits/duration";
import type { Duration, LimitScope, SubjectScope } from "../limits/limit-config";
import type { MeasureAmounts, PlannedCharge } from "../limits/plan-charges";
import { type Subject, subjectKeyPart } from "../limits/subject";
import { requestFingerprint } from "./request-fingerprint";

export interface LoopDetectionOptions {
  /** The Nth identical request (same subject, model and body) within `within` is refused. Default 10. */
  repeats?: number;
  /** Default `"1m"`. */
  within?: Duration;
}

export interface AnomalyDetectionOptions {
  /** Scopes watched, each against its own baseline. Default `["user", "key", "global"]`. */
  scopes?: readonly LimitScope[];
  /** The recent window compared with the baseline. Default `"5m"`. */
  window?: Duration;
  /** The baseline window (it includes the recent one). Default `"1h"`. */
  baseline?: Duration;
  /** A spike is recent activity above `factor` × the baseline rate. Default 5. */
  factor?: number;
  /** Floors below which nothing is an anomaly (a quiet subject doubling from 1 to 2 calls is not). Default 100 requests. */
  minRequests?: number;
  /** Spend floor in USD over the recent window. Default 1. */
  minUsd?: number;
  /** Block the subject's scope value until `guard.unblock()` when it spikes. Default `false` (alert only). */
  quarantine?: boolean;
}

export interface DetectorPlan {
  role: "loop" | "anomaly";
  /** For anomaly charges: which scope value, measure and half of the pair this is. */
  scope?: LimitScope;
  scopeValue?: string | undefined;
  measure?: "requests" | "usd";
  span?: "recent" | "baseline";
}

export type WatchedCharge = PlannedCharge & { detector?: DetectorPlan };

interface CompiledLoop {
  repeats: number;
  windowMs: number;
  limit: CompiledLimit;
}

export interface CompiledAnomaly {
  scopes: readonly LimitScope[];
  windowMs: number;
  baselineMs: number;
  factor: number;
  minRequests: number;
  minUsdNano: number;
  quarantine: boolean;
}

/** Never refuses: the counters only measure. */
const unbounded = Number.MAX_SAFE_INTEGER;
const scopes: readonly LimitScope[] = ["global", "user", "ip", "key", "tenant", "session"];

function detectorLimit(
  id: string,
  measure: "requests" | "usd",
  capacity: number,
  windowMs: number,
  enforce: boolean,
): CompiledLimit {
  return {
    id,
    scope: "global",
    measure,
    capacity,
    displayCapacity: capacity,
    window: { kind: "sliding", windowMs },
    enforce,
    alertAt: [],
    appliesTo: () => true,
  };
}

function duration(value: Duration | undefined, fallback: string, field: string): number {
  const milliseconds = parseDuration(value ?? (fallback as Duration));
  if (milliseconds === undefined) throw new ConfigurationError(field, 'must be a duration such as "1m"');
  return milliseconds;
}

export function compileLoopDetection(options: LoopDetectionOptions | false | undefined): CompiledLoop | undefined {
  if (options === false) return undefined;
  const repeats = options?.repeats ?? 10;
  if (!Number.isInteger(repeats) || repeats < 2) {
    throw new ConfigurationError("loopDetection.repeats", "must be a whole number ≥ 2");
  }
  const windowMs = duration(options?.within, "1m", "loopDetection.within");
  return { repeats, windowMs, limit: detectorLimit("tollgate.loop", "requests", repeats - 1, windowMs, true) };
}

export function compileAnomalyDetection(
  options: AnomalyDetectionOptions | false | undefined,
): CompiledAnomaly | undefined {
  if (options === undefined || options === false) return undefined;
  const watched = options.scopes ?? ["user", "key", "global"];
  if (!Array.isArray(watched) || watched.some((scope) => !scopes.includes(scope))) {
    throw new ConfigurationError("anomalyDetection.scopes", `must list scopes among ${scopes.join(", ")}`);
  }
  const windowMs = duration(options.window, "5m", "anomalyDetection.window");
  const baselineMs = duration(options.baseline, "1h", "anomalyDetection.baseline");
  if (baselineMs <= windowMs) throw new ConfigurationError("anomalyDetection.baseline", "must be longer than `window`");
  const factor = options.factor ?? 5;
  if (!(factor > 1)) throw new ConfigurationError("anomalyDetection.factor", "must be greater than 1");
  const minRequests = options.minRequests ?? 100;
  const minUsd = options.minUsd ?? 1;
  if (!(minRequests >= 1)) throw new ConfigurationError("anomalyDetection.minRequests", "must be ≥ 1");
  if (!(minUsd > 0)) throw new ConfigurationError("anomalyDetection.minUsd", "must be > 0");
  return {
    scopes: watched,
    windowMs,
    baselineMs,
    factor,
    minRequests,
    minUsdNano: Math.round(minUsd * 1e9),
    quarantine: options.quarantine === true,
  };
}

/** The subject as one key part, for counters that belong to the whole subject (loop detection). */
function subjectIdentity(subject: Subject): string {
  const parts: string[] = [];
  for (const scope of ["user", "ip", "key", "tenant", "session"] as const) {
    const value = subject[scope];
    if (value !== undefined) parts.push(subjectKeyPart(scope, value));
  }
  return parts.length === 0 ? "anonymous" : parts.join(",");
}

function planned(limit: CompiledLimit, key: string, amount: number, detector: DetectorPlan): WatchedCharge {
  const window = limit.window as { kind: "sliding"; windowMs: number };
  return {
    limit,
    scopeValue: detector.scopeValue,
    periodStartsAt: undefined,
    periodEndsAt: undefined,
    periodId: undefined,
    charge: {
      key,
      amount,
      capacity: limit.capacity,
      enforce: limit.enforce,
      window: { kind: "sliding", windowMs: window.windowMs, slots: 20 },
    },
    detector,
  };
}

/** Extra charges a call carries for the detectors, admitted atomically with its limits (no extra round trip). */
export function detectorCharges(
  loop: CompiledLoop | undefined,
  anomaly: CompiledAnomaly | undefined,
  subject: Subject,
  model: string,
  params: unknown,
  amounts: MeasureAmounts,
): WatchedCharge[] {
  const charges: WatchedCharge[] = [];
  if (loop !== undefined) {
    const key = `loop|${subjectIdentity(subject)}|${requestFingerprint(model, params)}`;
    charges.push(planned(loop.limit, key, 1, { role: "loop" }));
  }
  if (anomaly !== undefined) {
    for (const scope of anomaly.scopes) {
      const value = scope === "global" ? undefined : subject[scope as SubjectScope];
      if (scope !== "global" && value === undefined) continue;
      const part = value === undefined ? "global" : subjectKeyPart(scope as SubjectScope, value);
      for (const measure of ["requests", "usd"] as const) {
        for (const span of ["recent", "baseline"] as const) {
          const windowMs = span === "recent" ? anomaly.windowMs : anomaly.baselineMs;
          const limit = detectorLimit(`tollgate.anomaly.${measure}`, measure, unbounded, windowMs, false);
          charges.push(
            planned(limit, `anomaly|${part}|${measure}|${windowMs}`, measure === "requests" ? 1 : amounts.usd, {
              role: "anomaly",
              scope,
              scopeValue: value,
              measure,
              span,
            }),
          );
        }
      }
    }
  }
  return charges;
}

export interface AnomalyFinding {
  scope: LimitScope;
  scopeValue: string | undefined;
  measure: "requests" | "usd";
  recent: number;
  expected: number;
}

/** Compares each watched scope's recent window with its baseline rate, from the counts admission returned. */
export function findAnomalies(
  anomaly: CompiledAnomaly,
  charges: readonly WatchedCharge[],
  usedAfter: readonly number[],
) {
  const findings: AnomalyFinding[] = [];
  charges.forEach((charge, index) => {
    const detector = charge.detector;
    if (detector?.role !== "anomaly" || detector.span !== "recent") return;
    const baselineIndex = index + 1; // pushed right after its recent half
    const recent = usedAfter[index] ?? 0;
    const baseline = usedAfter[baselineIndex] ?? recent;
    const floor = detector.measure === "requests" ? anomaly.minRequests : anomaly.minUsdNano;
    if (recent < floor) return;
    // The baseline rate is what the rest of the baseline window saw, scaled to the recent window's length.
    const expected = (Math.max(0, baseline - recent) / (anomaly.baselineMs - anomaly.windowMs)) * anomaly.windowMs;
    if (recent <= anomaly.factor * expected) return;
    findings.push({
      scope: detector.scope!,
      scopeValue: detector.scopeValue,
      measure: detector.measure!,
      recent: detector.measure === "usd" ? recent / 1e9 : recent,
      expected: detector.measure === "usd" ? expected / 1e9 : expected,
    });
  });
  return findings;
}
