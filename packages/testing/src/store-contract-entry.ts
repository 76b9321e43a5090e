// `@tollgate/testing/store-contract`: kept apart from the main entry because it imports vitest at run time,
// which only test suites have; `startFakeProviders` works without it.
export type { AlertLogLimits } from "./alert-log-contract";
export type { StoreContractOptions } from "./store-contract";
export { describeStoreContract } from "./store-contract";
