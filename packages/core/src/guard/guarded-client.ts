import { AlertDispatcher } from "../alerts/alert-sink";
import { compileAnomalyDetection, compileLoopDetection } from "../detectors/detectors";
import { ConfigurationError } from "../errors/configuration-error";
import { compileLimits } from "../limits/compile-limits";
import { subjectScopes } from "../limits/limit-config";
import { blockKeys } from "../limits/plan-charges";
import type { Subject } from "../limits/subject";
import { type ReconcileOptions, type ReconcileReport, reconcile } from "../reconcile/reconcile";
import { alertLogEntry } from "../store/alert-log";
import { createMemoryStore } from "../store/memory-store";
import type { BlockEntry, TollgateStore, UsageGroupKey, UsageRow } from "../store/store";
import { assertServerEnvironment } from "./browser-environment";
import { checkSubject } from "./check-subject";
import { type CheckRequest, type CheckResult, type ForOptions, Gatekeeper } from "./gatekeeper";
import type { GuardEvent } from "./guard-event";
import { type GuardedClientOptions, type ProviderClients, resolveOptions } from "./guard-options";
import { InputEstimator } from "./input-estimator";
import { type AdapterContext, PendingCalls } from "./pending-calls";
import { SubjectClientCache, subjectCacheKey, subjectClients } from "./subject-clients";
import { Watchtower } from "./watchtower";

export interface UsageOptions {
  /** Start of the range (inclusive). Default: 30 days ago. */
  since?: Date | number;
  /** End of the range (exclusive). Default: now. */
  until?: Date | number;
  groupBy?: readonly UsageGroupKey[];
  where?: Partial<Record<Exclude<UsageGroupKey, "day">, string>>;
}

/** One row of `guard.usage()`: totals for one group; `costUsd` is `costNanoUsd / 1e9`. */
export interface UsageSummary extends UsageRow {
  costUsd: number;
}

export interface BlockOptions {
  reason?: string;
  /** Lift the block after this long. Default: until `unblock()`. */
  ttlMs?: number;
}

export interface BlockedSubject {
  scope: string;
  reason: string | undefined;
  until: Date | undefined;
  since: Date;
}

/** `reconcile()`'s options without the store and clock, which are the guard's. */
export type GuardReconcileOptions = Omit<ReconcileOptions, "store" | "clock">;

/** Guarded clients kept for the most recent subjects (see SubjectClientCache). */
const subjectClientCacheSize = 64;

/** Reconciliation alerts fire once per provider, model and day; a day can be reconciled while the ledger keeps it. */
const reconcileAlertTtlMs = 36 * 86_400_000;

export interface Guard<Providers extends ProviderClients> {
  /** The SDK clients, guarded for `subject`, typed exactly as you passed them in. */
  for(subject: Subject, options?: ForOptions): Providers;
  /** Would a call by `subject` be admitted now? Reserves nothing and never throws for limits. */
  check(subject: Subject, request?: CheckRequest): Promise<CheckResult>;
  usage(options?: UsageOptions): Promise<UsageSummary[]>;
  /** Blocks every scope the subject carries, for every instance sharing the store, from its next call. */
  block(subject: Subject | "global", options?: BlockOptions): Promise<void>;
  unblock(subject: Subject | "global"): Promise<void>;
  blocked(): Promise<BlockedSubject[]>;
  /**
   * Compares the providers' own usage reports with this guard's ledger (see `reconcile()`), and sends a
   * `reconcile.mismatch` alert to the alert sinks and `onEvent`, once per provider, model and day, for spend the
   * guard did not see: a key used outside the guard. Resolves with the whole report.
   */
  reconcile(options: GuardReconcileOptions): Promise<ReconcileReport>;
  /** Waits for pending settlements and records. Does not close the SDK clients or a store you passed in. */
  close(): Promise<void>;
}

/**
 * Creates a guard around your provider SDK clients. Every paid call through `guard.for(subject)` is admitted
 * against all applicable limits before it is sent, and settled with its true usage after.
 *
 * @throws ConfigurationError naming the first invalid option.
 * @throws BrowserEnvironmentError in a browser.
 */
export function guardedClient<Providers extends ProviderClients>(
  options: GuardedClientOptions<Providers>,
): Guard<Providers> {
  assertServerEnvironment();
  const resolved = resolveOptions(options as GuardedClientOptions);
  const limits = compileLimits(options.limits);
  const providers = options.providers;
  if (typeof providers !== "object" || providers === null) {
    throw new ConfigurationError("providers", "must be an object with openai, anthropic and/or google clients");
  }
  for (const name of Object.keys(providers)) {
    if (!["openai", "anthropic", "google"].includes(name)) {
      throw new ConfigurationError(`providers.${name}`, "is not a provider (openai, anthropic, google)");
    }
    const client = (providers as Record<string, unknown>)[name];
    if (client !== undefined && (typeof client !== "object" || client === null)) {
      throw new ConfigurationError(`providers.${name}`, "must be an SDK client instance");
    }
  }
  const store = options.store ?? createMemoryStore({ clock: resolved.clock });
  const estimator = new InputEstimator(resolved);
  const sinks = options.alerts?.sinks ?? [];
  if (!Array.isArray(sinks) || sinks.some((sink) => typeof sink !== "function" && typeof sink?.send !== "function")) {
    throw new ConfigurationError("alerts.sinks", "must be an array of functions or sinks with a send() method");
  }
  let gatekeeper: Gatekeeper | undefined;
  const report = (event: GuardEvent) => gatekeeper?.report(event);
  const dispatcher = new AlertDispatcher(sinks, () => undefined);
  const watchtower = new Watchtower({
    store,
    dispatcher,
    loop: compileLoopDetection(options.loopDetection),
    anomaly: compileAnomalyDetection(options.anomalyDetection),
    projectedAlerts: options.alerts?.projected ?? true,
    clock: resolved.clock,
    report: (alert) => report({ type: "alert", alert }),
    onStoreError: (error) =>
      report({
        type: "store.error",
        operation: "alert",
        error: error instanceof Error ? error : new Error(String(error)),
      }),
  });
  gatekeeper = new Gatekeeper(
    {
      options: resolved,
      limits,
      store,
      estimator,
      watchtower,
      prices: options.prices,
      priceResolver: options.priceResolver,
    },
    options.onEvent,
  );
  const calls = new PendingCalls(gatekeeper);
  const clientCache = new SubjectClientCache(subjectClientCacheSize);

  return {
    for(subject, forOptions = {}) {
      checkSubject(subject);
      const cacheKey = subjectCacheKey(subject, forOptions);
      const cached = clientCache.get(cacheKey);
      if (cached !== undefined) return cached as Providers;
      const context: AdapterContext = {
        gatekeeper,
        options: resolved,
        calls,
        subject: { ...subject },
        forOptions: { ...forOptions },
      };
      const guarded = subjectClients(providers, context);
      clientCache.set(cacheKey, guarded);
      return guarded as Providers;
    },
    check(subject, request) {
      checkSubject(subject);
      return gatekeeper.check(subject, request);
    },
    async usage(usageOptions = {}) {
      const now = resolved.clock();
      const rows = await store.queryUsage({
        since: toEpoch(usageOptions.since) ?? now - 30 * 86_400_000,
        until: toEpoch(usageOptions.until) ?? now + 1,
        groupBy: usageOptions.groupBy ?? [],
        ...(usageOptions.where === undefined ? {} : { where: usageOptions.where }),
      });
      return rows.map((row) => ({ ...row, costUsd: row.costNanoUsd / 1e9 }));
    },
    async block(subject, blockOptions = {}) {
      const now = resolved.clock();
      for (const key of subjectBlockKeys(subject)) {
        const entry: BlockEntry = {
          key,
          reason: blockOptions.reason,
          until: blockOptions.ttlMs === undefined ? undefined : now + blockOptions.ttlMs,
          createdAt: now,
        };
        await store.block(entry);
      }
    },
    async unblock(subject) {
      for (const key of subjectBlockKeys(subject)) await store.unblock(key);
    },
    async blocked() {
      const entries = await store.listBlocked();
      return entries.map((entry) => ({
        scope: entry.key.slice("block|".length),
        reason: entry.reason,
        until: entry.until === undefined ? undefined : new Date(entry.until),
        since: new Date(entry.createdAt),
      }));
    },
    async reconcile(reconcileOptions) {
      const result = await reconcile({ ...reconcileOptions, store, clock: resolved.clock });
      for (const alert of result.alerts) {
        const markerKey = `alert|reconcile|${alert.provider}|${alert.model}|${alert.day}`;
        // A store failure must not swallow a leak: deliver rather than risk never alerting.
        const first = await store.markOnce(markerKey, reconcileAlertTtlMs).catch(() => true);
        if (!first) continue;
        report({ type: "alert", alert });
        dispatcher.dispatch(alert);
        // The alert log is a record of what was delivered: its failure is reported, never thrown.
        await store.recordAlert(alertLogEntry(alert)).catch((error: unknown) =>
          report({
            type: "store.error",
            operation: "alert",
            error: error instanceof Error ? error : new Error(String(error)),
          }),
        );
      }
      return result;
    },
    close: () => gatekeeper.drain(),
  };
}

function subjectBlockKeys(subject: Subject | "global"): string[] {
  if (subject === "global") return ["block|global"];
  checkSubject(subject);
  if (!subjectScopes.some((scope) => subject[scope] !== undefined)) {
    throw new ConfigurationError("subject", "names no scope to block (user, ip, key, tenant or session)");
  }
  return blockKeys(subject).slice(1);
}

function toEpoch(value: Date | number | undefined): number | undefined {
  return value instanceof Date ? value.getTime() : value;
}

export type { TollgateStore };
