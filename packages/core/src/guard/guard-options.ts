import type { AlertSink } from "../alerts/alert-sink";
import type { AnomalyDetectionOptions, LoopDetectionOptions } from "../detectors/detectors";
import { ConfigurationError } from "../errors/configuration-error";
import type { Limit } from "../limits/limit-config";
import type { PriceOverride, PriceResolver } from "../pricing/model-price";
import type { TollgateStore } from "../store/store";
import type { GuardEvent } from "./guard-event";

/**
 * The SDK clients a guard wraps. Typed structurally so that `@tollgate/core` never needs an SDK installed to
 * type-check; `guard.for()` hands back exactly the types you passed in.
 */
export interface ProviderClients {
  /** An `OpenAI` client of the `openai` package. */
  openai?: object;
  /** An `Anthropic` client of `@anthropic-ai/sdk`. */
  anthropic?: object;
  /** A `GoogleGenAI` client of `@google/genai`, or a `GoogleGenerativeAI` of the deprecated `@google/generative-ai`. */
  google?: object;
}

/** What to do with a model that has no price while a cost (`usd`) limit applies. */
export type UnknownModelPolicy = "refuse" | { price: PriceOverride };

export interface GuardedClientOptions<Providers extends ProviderClients = ProviderClients> {
  providers: Providers;
  /** Where counters, reservations and the ledger live. Default: a new `createMemoryStore()`. */
  store?: TollgateStore;
  limits?: readonly Limit[];
  /** Prices by exact model name (USD per 1M tokens); they win over the bundled table. */
  prices?: Readonly<Record<string, PriceOverride>>;
  /** Called for models not in `prices`, before the bundled table. */
  priceResolver?: PriceResolver;
  /**
   * A model without a price under a cost limit: `"refuse"` (default) throws `UnknownModelError`; `{ price }` charges
   * it at that price. Never free.
   */
  onUnknownModel?: UnknownModelPolicy;
  /** Output tokens to reserve, and to inject into the request, when a call sets no output cap. Default 4096. */
  defaultMaxOutputTokens?: number;
  estimation?: {
    /** Safety factor on the o200k count for Claude before calibration. Default 1.25. */
    anthropicFactor?: number;
    /** Safety factor on the o200k count for Gemini before calibration. Default 1.1. */
    googleFactor?: number;
    /** Learn the factors from actual usage. Default `true`. */
    calibrate?: boolean;
  };
  /** `"deny"` (default) refuses calls while the store is unreachable; `"allow"` lets them through unmetered. */
  onStoreError?: "deny" | "allow";
  /** Longest wait for one store operation. Default 2000 ms. */
  storeTimeoutMs?: number;
  /** How long an unsettled call holds its reservation before a crash is assumed. Renewed while a call runs. Default 5 min. */
  leaseMs?: number;
  /** Paid operations Tollgate cannot meter that you accept to run unmetered, e.g. `["openai.images.generate"]`. */
  allowUnguarded?: readonly string[];
  alerts?: {
    /** Where alerts go: functions, `loggerSink()`, `webhookSink({ url, format, secret })`. */
    sinks?: readonly AlertSink[];
    /** Warn once per period when the burn rate will exhaust a calendar budget before the period ends. Default `true`. */
    projected?: boolean;
  };
  /**
   * Refuses the Nth identical request (same subject, model and body) within a window with `LoopDetectedError`: the
   * runaway `while` loop and the agent stuck in a retry cycle. Default `{ repeats: 10, within: "1m" }`; `false` turns
   * it off.
   */
  loopDetection?: LoopDetectionOptions | false;
  /** Alerts (and optionally quarantines) subjects whose request rate or spend jumps far above their baseline. Off by default. */
  anomalyDetection?: AnomalyDetectionOptions | false;
  /** Receives every admission, refusal, settlement and store error. Must not throw (errors are swallowed). */
  onEvent?: (event: GuardEvent) => void;
  /** Epoch-ms clock for calendar periods and timestamps. Default `Date.now`. */
  clock?: () => number;
}

export interface ResolvedOptions {
  defaultMaxOutputTokens: number;
  anthropicFactor: number;
  googleFactor: number;
  calibrate: boolean;
  onStoreError: "deny" | "allow";
  storeTimeoutMs: number;
  leaseMs: number;
  allowUnguarded: ReadonlySet<string>;
  onUnknownModel: UnknownModelPolicy;
  clock: () => number;
}

function positiveInteger(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new ConfigurationError(field, "must be a positive whole number");
  }
  return value;
}

function factor(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 1 || value > 10) {
    throw new ConfigurationError(field, "must be a number between 1 and 10");
  }
  return value;
}

/** Validates every option but `limits` and `providers` (checked by their own compilers). */
export function resolveOptions(options: GuardedClientOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) throw new ConfigurationError("options", "must be an object");
  const onStoreError = options.onStoreError ?? "deny";
  if (onStoreError !== "deny" && onStoreError !== "allow") {
    throw new ConfigurationError("onStoreError", 'must be "deny" or "allow"');
  }
  const onUnknownModel = options.onUnknownModel ?? "refuse";
  if (onUnknownModel !== "refuse") {
    const price = typeof onUnknownModel === "object" && onUnknownModel !== null ? onUnknownModel.price : undefined;
    if (typeof price?.input !== "number" || typeof price.output !== "number" || price.input < 0 || price.output < 0) {
      throw new ConfigurationError("onUnknownModel", '"refuse" or { price: { input, output } } in USD per 1M tokens');
    }
    if (price.input === 0 && price.output === 0) {
      throw new ConfigurationError("onUnknownModel.price", "an unknown model must not be free");
    }
  }
  for (const [model, price] of Object.entries(options.prices ?? {})) {
    if (typeof price?.input !== "number" || typeof price.output !== "number" || price.input < 0 || price.output < 0) {
      throw new ConfigurationError(`prices.${model}`, "needs input and output in USD per 1M tokens (numbers ≥ 0)");
    }
  }
  if (options.priceResolver !== undefined && typeof options.priceResolver !== "function") {
    throw new ConfigurationError("priceResolver", "must be a function");
  }
  if (options.onEvent !== undefined && typeof options.onEvent !== "function") {
    throw new ConfigurationError("onEvent", "must be a function");
  }
  if (options.clock !== undefined && typeof options.clock !== "function") {
    throw new ConfigurationError("clock", "must be a function returning epoch milliseconds");
  }
  const allowUnguarded = options.allowUnguarded ?? [];
  if (!Array.isArray(allowUnguarded) || allowUnguarded.some((name) => typeof name !== "string")) {
    throw new ConfigurationError("allowUnguarded", "must be an array of operation names");
  }
  const estimation = options.estimation ?? {};
  if (estimation.calibrate !== undefined && typeof estimation.calibrate !== "boolean") {
    throw new ConfigurationError("estimation.calibrate", "must be a boolean");
  }
  return {
    defaultMaxOutputTokens: positiveInteger(options.defaultMaxOutputTokens, "defaultMaxOutputTokens", 4096),
    anthropicFactor: factor(estimation.anthropicFactor, "estimation.anthropicFactor", 1.25),
    googleFactor: factor(estimation.googleFactor, "estimation.googleFactor", 1.1),
    calibrate: estimation.calibrate ?? true,
    onStoreError,
    storeTimeoutMs: positiveInteger(options.storeTimeoutMs, "storeTimeoutMs", 2_000),
    leaseMs: positiveInteger(options.leaseMs, "leaseMs", 300_000),
    allowUnguarded: new Set(allowUnguarded),
    onUnknownModel,
    clock: options.clock ?? Date.now,
  };
}
