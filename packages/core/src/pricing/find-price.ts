import type { ProviderName } from "../usage/token-usage";
import type { ModelPrice, PriceOverride, PriceResolver } from "./model-price";
import { normalizeModelName, PriceIndex } from "./price-index";
import { PRICE_TABLE } from "./price-table.generated";

export interface FindPriceOptions {
  /**
   * User prices by model name, checked first. The key must equal the model name as passed to the SDK, or
   * its normalised form (lower case, without Google's `models/` path). Never matched by prefix.
   */
  overrides?: Readonly<Record<string, PriceOverride>> | undefined;
  /** Asked after `overrides` and before the bundled table; `undefined` falls through to the table. */
  resolver?: PriceResolver | undefined;
}

let bundledIndex: PriceIndex | undefined;

function ownOverride(overrides: Readonly<Record<string, PriceOverride>>, name: string): PriceOverride | undefined {
  return Object.hasOwn(overrides, name) ? overrides[name] : undefined;
}

function fromOverride(provider: ProviderName, model: string, override: PriceOverride): ModelPrice {
  return { ...override, provider, model, match: "exact" };
}

/**
 * The price of a model call, or `undefined` when the model is unknown. Never guesses across model
 * families: a name that matches nothing has no price, and the caller decides what to do.
 *
 * Order: `overrides` (exact name), `resolver`, then the bundled table: exact name, the name without a
 * snapshot suffix (`gpt-4o-2024-08-06` → `gpt-4o`, `claude-sonnet-4-5-20250929`, `-latest`, Google's
 * `-001`), then the longest prefix entry (`claude-sonnet-4-5` for `claude-sonnet-4-5-20250929`). Google
 * names may carry a `models/` resource path. Table lookups are indexed once and memoised.
 */
export function findPrice(
  provider: ProviderName,
  model: string,
  options: FindPriceOptions = {},
): ModelPrice | undefined {
  const { overrides, resolver } = options;
  if (overrides !== undefined) {
    let override = ownOverride(overrides, model);
    if (override === undefined) {
      const normalized = normalizeModelName(provider, model);
      if (normalized !== model) override = ownOverride(overrides, normalized);
    }
    if (override !== undefined) return fromOverride(provider, model, override);
  }
  if (resolver !== undefined) {
    const resolved = resolver(provider, model);
    if (resolved !== undefined) return fromOverride(provider, model, resolved);
  }
  bundledIndex ??= new PriceIndex(PRICE_TABLE);
  return bundledIndex.find(provider, model);
}
