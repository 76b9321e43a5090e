export type {
  AnomalyAlert,
  BudgetProjectedAlert,
  BudgetThresholdAlert,
  LoopDetectedAlert,
  ReconcileMismatchAlert,
  TollgateAlert,
} from "./alerts/alert";
export { describeAlert } from "./alerts/alert";
export type { AlertSink, AlertSinkObject } from "./alerts/alert-sink";
export type { AlertLogger } from "./alerts/logger-sink";
export { loggerSink } from "./alerts/logger-sink";
export type { WebhookSink, WebhookSinkOptions } from "./alerts/webhook-sink";
export { signWebhookBody, webhookSink } from "./alerts/webhook-sink";
export type { AnomalyDetectionOptions, LoopDetectionOptions } from "./detectors/detectors";
export { BlockedError } from "./errors/blocked-error";
export { BrowserEnvironmentError } from "./errors/browser-environment-error";
export { ConfigurationError } from "./errors/configuration-error";
export type { LimitExceededCode, LimitExceededDetails, LimitWindow } from "./errors/limit-exceeded-error";
export { LimitExceededError } from "./errors/limit-exceeded-error";
export { LoopDetectedError } from "./errors/loop-detected-error";
export { rateLimitHeaders } from "./errors/rate-limit-headers";
export { ReconcileError } from "./errors/reconcile-error";
export { StoreUnavailableError } from "./errors/store-unavailable-error";
export { SubjectScopeMissingError } from "./errors/subject-scope-missing-error";
export type { TollgateErrorCode } from "./errors/tollgate-error";
export { TollgateError } from "./errors/tollgate-error";
export { UnguardedOperationError } from "./errors/unguarded-operation-error";
export { UnknownModelError } from "./errors/unknown-model-error";
export { isBrowserEnvironment } from "./guard/browser-environment";
export type { CheckRequest, CheckResult, ForOptions } from "./guard/gatekeeper";
export type { CallEstimate, GuardEvent } from "./guard/guard-event";
export type { GuardedClientOptions, ProviderClients, UnknownModelPolicy } from "./guard/guard-options";
export type {
  BlockedSubject,
  BlockOptions,
  Guard,
  GuardReconcileOptions,
  UsageOptions,
  UsageSummary,
} from "./guard/guarded-client";
export { guardedClient } from "./guard/guarded-client";
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
export { costNanoUsd, formatUsd, NANO_USD_PER_USD, worstCaseCostNanoUsd } from "./pricing/cost";
export { findPrice } from "./pricing/find-price";
export type { ModelPrice, PriceOverride, PriceResolver, PriceTier } from "./pricing/model-price";
export type { ReconciledProvider, ReconcileOptions, ReconcileReport, ReconcileRow } from "./reconcile/reconcile";
export { reconcile } from "./reconcile/reconcile";
export type { AnthropicReconcileOptions } from "./reconcile/reconcile-anthropic";
export type { OpenAIReconcileOptions } from "./reconcile/reconcile-openai";
export type { AlertLogEntry, AlertLogQuery, LoggedAlert } from "./store/alert-log";
export {
  alertFromLogEntry,
  alertLogEntry,
  checkAlertLogEntry,
  checkAlertLogQuery,
  defaultAlertLogMaxEntries,
  defaultAlertLogRetentionMs,
} from "./store/alert-log";
export type { MemoryStoreOptions } from "./store/memory-store";
export { createMemoryStore } from "./store/memory-store";
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
export {
  addUsageTotals,
  emptyUsageTotals,
  recordUsageTotals,
  type UsageTotals,
  usageTotalFields,
} from "./store/usage-totals";
export type { OperationKind } from "./usage/operation";
export type { ProviderName, TokenUsage } from "./usage/token-usage";
