export type { ProviderName, TokenUsage } from "./usage/token-usage";
