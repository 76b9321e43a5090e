import type { WatchedCharge } from "../detectors/detectors";
import { BlockedError } from "../errors/blocked-error";
import { type LimitExceededCode, LimitExceededError } from "../errors/limit-exceeded-error";
import { StoreUnavailableError } from "../errors/store-unavailable-error";
import { TollgateError } from "../errors/tollgate-error";
import { UnknownModelError } from "../errors/unknown-model-error";
import { PeriodWindowCache } from "../limits/calendar-period";
import { type CompiledLimit, toDisplayUnits } from "../limits/compile-limits";
import {
  applicableLimits,
  blockKeys,
  type MeasureAmounts,
  type PlannedCharge,
  planCharges,
} from "../limits/plan-charges";
import { ledgerValue, type Subject } from "../limits/subject";
import { costNanoUsd, worstCaseCostNanoUsd } from "../pricing/cost";
import { findPrice } from "../pricing/find-price";
import type { ModelPrice, PriceOverride, PriceResolver } from "../pricing/model-price";
import type { AdmitResult, TollgateStore, UsageRecord } from "../store/store";
import type { OperationKind } from "../usage/operation";
import type { ProviderName, TokenUsage } from "../usage/token-usage";
import type { UsageReading } from "../usage/usage-reader";
import { createCallId } from "./call-id";
import type { CallEstimate, GuardEvent } from "./guard-event";
import type { ResolvedOptions } from "./guard-options";
import type { InputEstimator } from "./input-estimator";
import type { Watchtower } from "./watchtower";

export interface CheckRequest {
  provider?: ProviderName;
  /** Limits filtered by `models` apply only when the model is given. */
  model?: string;
  /** Tokens to assume for the check. Default 1 input token, no output. */
  inputTokens?: number;
  outputTokens?: number;
}

export type CheckResult =
  | { allowed: true; remaining: Record<string, number> }
  | {
      allowed: false;
      reason: "limit" | "blocked";
      limitId: string | undefined;
      retryAfterMs: number | undefined;
      remaining: Record<string, number>;
    };

export interface ForOptions {
  /** `"throw"` (default) raises `LimitExceededError`; `"wait"` waits for capacity up to `maxWaitMs`. */
  onLimit?: "throw" | "wait";
  /** Longest total wait in `"wait"` mode. Default 60 000 ms. */
  maxWaitMs?: number;
}

/** One paid call as the SDK layer describes it to the gatekeeper. */
export interface CallRequest {
  provider: ProviderName;
  operation: OperationKind;
  model: string;
  /** The request body as the SDK will send it (output cap already injected). */
  params: unknown;
  /** The output tokens the call may produce at most (0 for embeddings). */
  outputCap: number;
  subject: Subject;
  forOptions: ForOptions;
}

/** A call that passed admission and awaits settlement. */
export interface AdmittedCall {
  /** The reservation id in the store (the call id, suffixed by the attempt when `onLimit: "wait"` retried). */
  id: string;
  /** The call's id in events. */
  callId: string;
  request: CallRequest;
  estimate: CallEstimate;
  /** The input estimate before the provider's safety factor, for calibration. */
  rawInputTokens: number;
  price: ModelPrice | undefined;
  planned: WatchedCharge[];
  /** Usage of each charge right after admission (the store's answer), for budget alerts at settlement. */
  usedAfter: readonly number[];
  /** `false` when the store was down and `onStoreError: "allow"` let the call through unreserved. */
  reserved: boolean;
  admittedAt: number;
  settled: boolean;
  leaseTimer: ReturnType<typeof setInterval> | undefined;
}

/** How a call ended, as the transport tap saw it. */
export type CallOutcome =
  | { kind: "completed"; reading: UsageReading }
  | { kind: "aborted"; reading: UsageReading }
  | { kind: "failed" };

export interface GatekeeperParts {
  options: ResolvedOptions;
  limits: readonly CompiledLimit[];
  store: TollgateStore;
  estimator: InputEstimator;
  watchtower: Watchtower;
  prices: Readonly<Record<string, PriceOverride>> | undefined;
  priceResolver: PriceResolver | undefined;
}

const defaultMaxWaitMs = 60_000;

/**
 * When to try a failed settlement or ledger write again: a store outage of up to about a minute and a half loses
 * none. Stores remember a record's id for at least 10 minutes, well past the last retry.
 */
const writeRetryDelaysMs = [1_000, 5_000, 20_000, 60_000];

/** When to release an unanswered admission again, in case the admission reached the store after the first release. */
const releaseAgainAfterMs = [2_000, 15_000];

/**
 * Admits calls before they are sent and settles them after: the policy half of Tollgate. SDK adapters describe a
 * call (`CallRequest`) and report how it ended (`CallOutcome`); everything about limits, prices and the store
 * happens here.
 */
export class Gatekeeper {
  private readonly options: ResolvedOptions;
  private readonly limits: readonly CompiledLimit[];
  private readonly store: TollgateStore;
  private readonly estimator: InputEstimator;
  private readonly watchtower: Watchtower;
  private readonly periods = new PeriodWindowCache();
  private readonly priceLookup: { overrides?: Readonly<Record<string, PriceOverride>>; resolver?: PriceResolver };
  private readonly pending = new Set<Promise<unknown>>();
  onEvent: ((event: GuardEvent) => void) | undefined;

  constructor(parts: GatekeeperParts, onEvent: ((event: GuardEvent) => void) | undefined) {
    this.options = parts.options;
    this.limits = parts.limits;
    this.store = parts.store;
    this.estimator = parts.estimator;
    this.watchtower = parts.watchtower;
    this.priceLookup = {
      ...(parts.prices === undefined ? {} : { overrides: parts.prices }),
      ...(parts.priceResolver === undefined ? {} : { resolver: parts.priceResolver }),
    };
    this.onEvent = onEvent;
  }

  /** Estimates and reserves; throws a `TollgateError` when the call may not run. */
  async admit(request: CallRequest): Promise<AdmittedCall> {
    const id = createCallId();
    const facts = { callId: id, provider: request.provider, operation: request.operation, model: request.model };
    try {
      const limits = applicableLimits(this.limits, request.subject, request.model);
      const price = this.priceFor(request, limits);
      const { inputTokens, rawTokens } = await this.estimator.estimate(
        request.provider,
        request.operation,
        request.model,
        request.params,
      );
      const outputTokens = request.outputCap;
      const estimate: CallEstimate = {
        inputTokens,
        outputTokens,
        costNanoUsd: price === undefined ? 0 : worstCaseCostNanoUsd(price, inputTokens, outputTokens),
        priced: price !== undefined,
      };
      const amounts: MeasureAmounts = {
        requests: 1,
        tokens: inputTokens + outputTokens,
        inputTokens,
        outputTokens,
        usd: estimate.costNanoUsd,
      };
      const startedAt = this.options.clock();
      for (let attempt = 0; ; attempt++) {
        const planned: WatchedCharge[] = [
          ...planCharges(limits, request.subject, amounts, this.options.clock(), this.periods),
          ...this.watchtower.charges(request.subject, request.model, request.params, amounts),
        ];
        // A fresh reservation id per attempt: an attempt the store applied after its timeout must not be overwritten
        // (and so never settled) by the next one.
        const reservationId = attempt === 0 ? id : `${id}.${attempt}`;
        const result = await this.storeCall("admit", () =>
          this.store.admit({
            reservationId,
            charges: planned.map((plan) => plan.charge),
            blockKeys: blockKeys(request.subject),
            leaseMs: this.options.leaseMs,
          }),
        ).catch((error: unknown) => {
          this.releaseUnanswered(reservationId, planned);
          throw error;
        });
        if (result === undefined) {
          this.releaseUnanswered(reservationId, planned);
          this.emit({ type: "call.unmetered", reason: "store-unavailable", ...facts, subject: request.subject });
          return this.admitted(reservationId, request, estimate, rawTokens, price, planned, [], false);
        }
        if (result.admitted) {
          this.watchtower.afterAdmit(planned, result.usedAfter);
          for (const index of result.shadowRefusals) {
            const plan = planned[index]!;
            if (plan.detector !== undefined) continue;
            this.emit({
              type: "limit.shadow-exceeded",
              limitId: plan.limit.id,
              used: toDisplayUnits(plan.limit, result.usedAfter[index]!),
              limit: plan.limit.displayCapacity,
              ...facts,
              subject: request.subject,
            });
          }
          const call = this.admitted(
            reservationId,
            request,
            estimate,
            rawTokens,
            price,
            planned,
            result.usedAfter,
            true,
          );
          this.emit({
            type: "call.admitted",
            estimate,
            waitedMs: this.options.clock() - startedAt,
            ...facts,
            subject: request.subject,
          });
          return call;
        }
        const refusedBy = result.refusal.kind === "limit" ? planned[result.refusal.chargeIndex] : undefined;
        const loop =
          refusedBy === undefined ? undefined : this.watchtower.refusal(refusedBy, request.subject, request.model);
        if (loop !== undefined) throw loop;
        if (refusedBy !== undefined && result.refusal.kind === "limit") {
          this.watchtower.afterRefusal(refusedBy, result.refusal.used);
        }
        const error = refusalError(result, planned, amounts);
        const waitMs = this.waitBeforeRetry(request.forOptions, error, startedAt, attempt);
        if (waitMs === undefined) throw error;
        await sleep(waitMs);
      }
    } catch (error) {
      if (TollgateError.isInstance(error))
        this.emit({ type: "call.refused", error, ...facts, subject: request.subject });
      throw error;
    }
  }

  /** Answers whether a call would be admitted now, without reserving anything. */
  async check(subject: Subject, request: CheckRequest = {}): Promise<CheckResult> {
    const model = request.model ?? "";
    const limits = applicableLimits(
      request.model === undefined
        ? this.limits.filter((limit) => limit.scope === "global" || subject[limit.scope] !== undefined)
        : this.limits,
      subject,
      model,
    );
    const inputTokens = request.inputTokens ?? 1;
    const outputTokens = request.outputTokens ?? 0;
    const price =
      request.provider === undefined || request.model === undefined
        ? undefined
        : findPrice(request.provider, request.model, this.priceLookup);
    const amounts: MeasureAmounts = {
      requests: 1,
      tokens: inputTokens + outputTokens,
      inputTokens,
      outputTokens,
      usd: price === undefined ? 0 : worstCaseCostNanoUsd(price, inputTokens, outputTokens),
    };
    const planned = planCharges(limits, subject, amounts, this.options.clock(), this.periods);
    const result = await this.storeCall("admit", () =>
      this.store.admit({
        reservationId: "check",
        charges: planned.map((plan) => plan.charge),
        blockKeys: blockKeys(subject),
        leaseMs: this.options.leaseMs,
        dryRun: true,
      }),
    );
    if (result === undefined) return { allowed: true, remaining: {} };
    if (result.admitted) {
      const remaining: Record<string, number> = {};
      planned.forEach((plan, index) => {
        const usedBefore = result.usedAfter[index]! - plan.charge.amount;
        remaining[plan.limit.id] = toDisplayUnits(plan.limit, Math.max(0, plan.charge.capacity - usedBefore));
      });
      return { allowed: true, remaining };
    }
    if (result.refusal.kind === "blocked") {
      return { allowed: false, reason: "blocked", limitId: undefined, retryAfterMs: undefined, remaining: {} };
    }
    const plan = planned[result.refusal.chargeIndex]!;
    return {
      allowed: false,
      reason: "limit",
      limitId: plan.limit.id,
      retryAfterMs: result.refusal.retryAfterMs,
      remaining: {
        [plan.limit.id]: toDisplayUnits(plan.limit, Math.max(0, plan.charge.capacity - result.refusal.used)),
      },
    };
  }

  /** Replaces the reservation by the true usage and writes the ledger record. Idempotent per call. */
  settle(call: AdmittedCall, outcome: CallOutcome): Promise<void> {
    if (call.settled) return Promise.resolve();
    call.settled = true;
    if (call.leaseTimer !== undefined) clearInterval(call.leaseTimer);
    const work = this.settleNow(call, outcome);
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
    return work;
  }

  /**
   * Waits for every settlement in flight, then for alerts to be delivered (used by `guard.close()`). It does not wait
   * for the background retries of failed store writes (`writeWithRetries`, up to ~90 s): closing must not hang on a
   * store that is down. Those retries keep using the store, so they are lost when it is closed before they succeed.
   */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    await this.watchtower.close();
  }

  private async settleNow(call: AdmittedCall, outcome: CallOutcome): Promise<void> {
    const { usage, estimated, status } = settledUsage(call, outcome);
    if (
      outcome.kind === "completed" &&
      outcome.reading.final &&
      usage.inputTokens !== undefined &&
      this.options.calibrate
    ) {
      this.estimator.observe(call.request.provider, call.request.model, call.rawInputTokens, usage.inputTokens);
    }
    const inputTokens = usage.inputTokens ?? 0;
    const outputTokens = usage.outputTokens ?? 0;
    const cost = call.price === undefined ? 0 : costNanoUsd(call.price, usage).costNanoUsd;
    if (call.reserved) {
      // A provider error still counts as a request; a concurrency slot is released whatever its amount.
      const actual = {
        requests: 1,
        tokens: inputTokens + outputTokens,
        inputTokens,
        outputTokens,
        usd: cost,
        concurrent: 0,
      };
      const amounts = call.planned.map((plan) => actual[plan.limit.measure]);
      await this.settleInStore(call.id, amounts);
      this.watchtower.afterSettle(call.planned, call.usedAfter, amounts);
    }
    const subject = call.request.subject;
    const record: UsageRecord = {
      id: call.id,
      time: call.admittedAt,
      provider: call.request.provider,
      model: call.request.model,
      operation: call.request.operation,
      user: ledgerValue(subject.user),
      ip: ledgerValue(subject.ip),
      key: ledgerValue(subject.key),
      tenant: ledgerValue(subject.tenant),
      session: ledgerValue(subject.session),
      inputTokens,
      cachedInputTokens: usage.cachedInputTokens ?? 0,
      cacheWriteInputTokens: (usage.cacheWriteInputTokens ?? 0) + (usage.cacheWrite1hInputTokens ?? 0),
      outputTokens,
      reasoningTokens: usage.reasoningTokens ?? 0,
      costNanoUsd: cost,
      estimated: estimated || call.price === undefined,
      status,
      latencyMs: Math.max(0, this.options.clock() - call.admittedAt),
    };
    // Retried in the background like the settlement: the store counts a record id once, so a write that timed out
    // but was applied is not counted twice.
    await this.writeWithRetries("record", () => this.store.record(record));
    this.emit({
      type: "call.settled",
      record,
      estimate: call.estimate,
      callId: call.callId,
      provider: call.request.provider,
      operation: call.request.operation,
      model: call.request.model,
      subject,
    });
  }

  private admitted(
    id: string,
    request: CallRequest,
    estimate: CallEstimate,
    rawInputTokens: number,
    price: ModelPrice | undefined,
    planned: WatchedCharge[],
    usedAfter: readonly number[],
    reserved: boolean,
  ): AdmittedCall {
    const call: AdmittedCall = {
      id,
      callId: id.replace(/\.\d+$/, ""),
      request,
      estimate,
      rawInputTokens,
      usedAfter,
      price,
      planned,
      reserved,
      admittedAt: this.options.clock(),
      settled: false,
      leaseTimer: undefined,
    };
    if (reserved) {
      // Renew the lease while the call runs, so only a crashed process loses its slots after `leaseMs`.
      const timer = setInterval(
        () => {
          void this.storeCall("extend-lease", () => this.store.extendLease(id, this.options.leaseMs));
        },
        Math.max(1_000, Math.floor(this.options.leaseMs / 2)),
      );
      timer.unref?.();
      call.leaseTimer = timer;
    }
    return call;
  }

  private priceFor(request: CallRequest, limits: readonly CompiledLimit[]): ModelPrice | undefined {
    const price = findPrice(request.provider, request.model, this.priceLookup);
    if (price !== undefined) return price;
    const policy = this.options.onUnknownModel;
    if (policy !== "refuse") {
      return { ...policy.price, provider: request.provider, model: request.model, match: "exact" };
    }
    if (limits.some((limit) => limit.measure === "usd")) throw new UnknownModelError(request.provider, request.model);
    return undefined;
  }

  private waitBeforeRetry(
    forOptions: ForOptions,
    error: TollgateError,
    startedAt: number,
    attempt: number,
  ): number | undefined {
    if (forOptions.onLimit !== "wait" || !LimitExceededError.isInstance(error)) return undefined;
    const remaining = (forOptions.maxWaitMs ?? defaultMaxWaitMs) - (this.options.clock() - startedAt);
    // Concurrency frees on settle, long before a lease expires: poll with backoff instead of trusting retryAfterMs.
    const suggested =
      error.code === "CONCURRENCY_LIMITED"
        ? Math.min(25 * 2 ** Math.min(attempt, 6), error.retryAfterMs ?? 1_000)
        : error.retryAfterMs;
    if (suggested === undefined || suggested > remaining) return undefined;
    return Math.max(1, Math.min(remaining, suggested + Math.random() * 10));
  }

  /** Runs a store operation under the timeout; on failure applies `onStoreError` (undefined = let through). */
  private async storeCall<T>(operation: "admit" | "settle" | "record" | "extend-lease", run: () => Promise<T>) {
    try {
      return await withTimeout(run(), this.options.storeTimeoutMs);
    } catch (cause) {
      const error = cause instanceof Error ? cause : new Error(String(cause));
      this.emit({ type: "store.error", operation, error });
      if (operation !== "admit") return undefined;
      if (this.options.onStoreError === "allow") return undefined;
      throw new StoreUnavailableError(`The Tollgate store did not answer: ${error.message}`, { cause: error });
    }
  }

  /**
   * An admission the store did not answer in time may still have been applied: release it with a zero settlement
   * (idempotent by id, so harmless when nothing was reserved), rather than let it hold capacity until its window ends.
   * The store is probably unreachable right now, so a failed release is tried again (`settleInStore`). And the
   * admission may still be on its way: held on a slow link, queued behind row locks, or re-sent by a client after it
   * reconnects, while the release goes out on another pooled connection and lands first, finding nothing. So the
   * release is also sent again later, whatever the first one answered (settlement is idempotent: a repeat changes
   * nothing).
   */
  private releaseUnanswered(reservationId: string, planned: readonly PlannedCharge[]): void {
    const amounts = planned.map(() => 0);
    void this.settleInStore(reservationId, amounts);
    for (const delay of releaseAgainAfterMs) {
      setTimeout(
        () => void this.storeCall("settle", () => this.store.settle({ reservationId, amounts })),
        delay,
      ).unref?.();
    }
  }

  /**
   * Settles in the store, retried on failure. Without the retries, a store outage at the end of a call would leave
   * its reservation (the worst case) charged and its concurrency slot held until the lease runs out.
   */
  private settleInStore(reservationId: string, amounts: readonly number[]): Promise<void> {
    return this.writeWithRetries("settle", () => this.store.settle({ reservationId, amounts }));
  }

  /**
   * Runs a store write under the timeout; when it fails (each failure emits `store.error`), tries it again in the
   * background after 1 s, 5 s, 20 s and 60 s. Only for idempotent writes (settle by reservation id, record by record
   * id): a write that timed out may still have been applied, and its retry must change nothing then. Resolves after
   * the first attempt; the retries are not awaited by anyone (see `drain`).
   */
  private async writeWithRetries(
    operation: "settle" | "record",
    write: () => Promise<unknown>,
    attempt = 0,
  ): Promise<void> {
    const written = await this.storeCall(operation, async () => {
      await write();
      return true;
    });
    const delay = writeRetryDelaysMs[attempt];
    if (written === true || delay === undefined) return;
    setTimeout(() => void this.writeWithRetries(operation, write, attempt + 1), delay).unref?.();
  }

  /** Emits an event on behalf of a part of the guard (the watchtower's alerts). */
  report(event: GuardEvent): void {
    this.emit(event);
  }

  private emit(event: GuardEvent): void {
    if (this.onEvent === undefined) return;
    try {
      this.onEvent(event);
    } catch {
      // An event handler must never fail or slow a model call.
    }
  }
}

function refusalError(
  result: Extract<AdmitResult, { admitted: false }>,
  planned: readonly PlannedCharge[],
  amounts: MeasureAmounts,
): TollgateError {
  const refusal = result.refusal;
  if (refusal.kind === "blocked") {
    const scope = refusal.entry.key.split("|")[1]?.split(":")[0] ?? "subject";
    return new BlockedError(
      scope,
      refusal.entry.reason,
      refusal.entry.until === undefined ? undefined : new Date(refusal.entry.until),
    );
  }
  const plan = planned[refusal.chargeIndex]!;
  const limit = plan.limit;
  const code: LimitExceededCode =
    limit.window.kind === "concurrency"
      ? "CONCURRENCY_LIMITED"
      : limit.window.kind === "calendar"
        ? "QUOTA_EXCEEDED"
        : "RATE_LIMITED";
  const requested = limit.measure === "concurrent" ? 1 : amounts[limit.measure];
  return new LimitExceededError(code, {
    limitId: limit.id,
    scope: limit.scope,
    measure: limit.measure,
    window:
      limit.window.kind === "sliding"
        ? { kind: "rolling", ms: limit.window.windowMs }
        : limit.window.kind === "calendar"
          ? { kind: "calendar", period: limit.window.period }
          : { kind: "concurrency" },
    limit: limit.displayCapacity,
    used: toDisplayUnits(limit, refusal.used),
    requested: toDisplayUnits(limit, requested),
    retryAfterMs: refusal.retryAfterMs,
    resetAt: plan.periodEndsAt === undefined ? undefined : new Date(plan.periodEndsAt),
  });
}

/**
 * The usage to settle with. A failed call used nothing; a completed call with final usage is exact; an aborted
 * call or one whose usage is missing falls back on what was seen and on the reservation, marked estimated.
 */
function settledUsage(
  call: AdmittedCall,
  outcome: CallOutcome,
): { usage: TokenUsage; estimated: boolean; status: UsageRecord["status"] } {
  if (outcome.kind === "failed")
    return { usage: { inputTokens: 0, outputTokens: 0 }, estimated: false, status: "error" };
  const reading = outcome.reading;
  const seen = reading.usage;
  const status = outcome.kind === "aborted" ? "aborted" : "ok";
  if (reading.final && seen?.inputTokens !== undefined && seen.outputTokens !== undefined) {
    return { usage: seen, estimated: false, status };
  }
  if (outcome.kind === "completed" && seen === undefined) {
    // No usage reported at all: the reservation stands, never a free call.
    return {
      usage: { inputTokens: call.estimate.inputTokens, outputTokens: call.estimate.outputTokens },
      estimated: true,
      status,
    };
  }
  // Partial: input as reported (or estimated), output as received. Providers bill what they generated, which is at
  // least what reached us; characters / 3 over-counts typical text slightly, and never exceeds the cap.
  const receivedOutput = Math.min(call.estimate.outputTokens, Math.ceil(reading.outputCharacters / 3));
  return {
    usage: {
      ...seen,
      inputTokens: seen?.inputTokens ?? call.estimate.inputTokens,
      outputTokens: Math.max(seen?.outputTokens ?? 0, receivedOutput),
    },
    estimated: true,
    status,
  };
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
