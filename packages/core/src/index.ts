export { guardedClient } from "./guard/guarded-client";
export type {
  BlockedSubject,
  BlockOptions,
  Guard,
  UsageOptions,
  UsageSummary,
} from "./guard/guarded-client";
export type { CheckRequest, CheckResult, ForOptions } from "./guard/gatekeeper";
export type { GuardedClientOptions, ProviderClients, UnknownModelPolicy } from "./guard/guard-options";
export type { CallEstimate, GuardEvent } from "./guard/guard-event";
export { isBrowserEnvironment } from "./guard/browser-environment";

export type {
  CalendarPeriod,
  ConcurrencyLimit,
  CountedMeasure,
  Duration,
  Limit,
  LimitMeasure,
  LimitScope,
  RateLimit,
  SubjectScope,
} from "./limits/limit-config";
export type { Subject } from "./limits/subject";

export { createMemoryStore } from "./store/memory-store";
export type { MemoryStoreOptions } from "./store/memory-store";
export type {
  AdmitRequest,
  AdmitResult,
  BlockEntry,
  CounterCharge,
  CounterWindow,
  SettleRequest,
  TollgateStore,
  UsageGroupKey,
  UsageQuery,
  UsageRecord,
  UsageRow,
} from "./store/store";

export { findPrice } from "./pricing/find-price";
export { costNanoUsd, formatUsd, NANO_USD_PER_USD, worstCaseCostNanoUsd } from "./pricing/cost";
export type { ModelPrice, PriceOverride, PriceResolver, PriceTier } from "./pricing/model-price";

export type { OperationKind } from "./usage/operation";
export type { ProviderName, TokenUsage } from "./usage/token-usage";

export { BlockedError } from "./errors/blocked-error";
export { BrowserEnvironmentError } from "./errors/browser-environment-error";
export { ConfigurationError } from "./errors/configuration-error";
export { LimitExceededError } from "./errors/limit-exceeded-error";
export type { LimitExceededCode, LimitExceededDetails } from "./errors/limit-exceeded-error";
export { LoopDetectedError } from "./errors/loop-detected-error";
export { StoreUnavailableError } from "./errors/store-unavailable-error";
export { SubjectScopeMissingError } from "./errors/subject-scope-missing-error";
export { TollgateError } from "./errors/tollgate-error";
export type { TollgateErrorCode } from "./errors/tollgate-error";
export { UnguardedOperationError } from "./errors/unguarded-operation-error";
export { UnknownModelError } from "./errors/unknown-model-error";
