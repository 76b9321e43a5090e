export type { FakeProviders, FakeProvidersOptions } from "./fake-providers";
export { startFakeProviders } from "./fake-providers";
export type { FakeOperation, FakeProviderName, FakeRule, FakeRuleMatch, FakeRuleOverride } from "./fake-rules";
export { fakeRuleHeader, fakeRuleHeaderName } from "./fake-rules";
export type { FakeUsage } from "./fake-usage";
export type { FakeFault } from "./faults";
export type { RecordedRequest } from "./recorded-request";
export type { FakePrice } from "./usage-report";
