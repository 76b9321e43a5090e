import type { ProviderName } from "../usage/token-usage";
import type { ModelPrice } from "./model-price";

interface ProviderIndex {
  /** Results by the name as given, `null` for no price; emptied when it reaches `MEMO_LIMIT`. */
  memo: Map<string, ModelPrice | null>;
  exact: Map<string, ModelPrice>;
  prefix: Map<string, ModelPrice>;
  /** Distinct prefix lengths, longest first: a lookup tries one `Map.get` per length. */
  prefixLengths: number[];
}

/** Results kept per provider before its memo is emptied; model names are few in practice. */
const MEMO_LIMIT = 4096;

/** `models/x`, `publishers/google/models/x`, `projects/p/locations/l/publishers/google/models/x` → `x`. */
const GOOGLE_RESOURCE_PATH = /^(?:projects\/[^/]+\/locations\/[^/]+\/)?(?:publishers\/google\/)?models\//;

/** A compact date inside a name (`-20250929`), which the source data also tries as `-2025-09-29`. */
const COMPACT_DATE = /-(20\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?=-|:|$)/g;

/** Suffixes that name a snapshot or alias of a model rather than another model. */
const SNAPSHOT_SUFFIX = /-(?:latest|\d{4}-\d{2}-\d{2}|\d{8})$/;
/** Google's stable version suffix (`gemini-2.0-flash-001`). */
const GOOGLE_VERSION_SUFFIX = /-\d{3}$/;

/**
 * A variant billed per modality (speech, audio, image, video, live sessions). The table leaves such models
 * out, so a text model's prefix must not price them either: `gemini-2.5-pro` must not match
 * `gemini-2.5-pro-preview-tts`.
 */
const MODALITY_VARIANT = /(?:^|[-_.:@/])(?:tts|audio|native-audio|realtime|transcribe|image|live|video)(?:$|[-_.:@/])/;

/** The name as the table spells it: trimmed, lower case, without a Google resource path. */
export function normalizeModelName(provider: ProviderName, model: string): string {
  const name = model.trim().toLowerCase();
  return provider === "google" ? name.replace(GOOGLE_RESOURCE_PATH, "") : name;
}

function withDashedDates(name: string): string {
  return name.replace(COMPACT_DATE, (whole: string, year: string, month: string, day: string) => {
    const date = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
    return date.getUTCMonth() === Number(month) - 1 && date.getUTCDate() === Number(day)
      ? `-${year}-${month}-${day}`
      : whole;
  });
}

function withoutSnapshot(provider: ProviderName, name: string): string {
  const stripped = name.replace(SNAPSHOT_SUFFIX, "");
  return stripped === name && provider === "google" ? name.replace(GOOGLE_VERSION_SUFFIX, "") : stripped;
}

function freezePrice(price: ModelPrice): ModelPrice {
  if (price.tiers !== undefined) {
    for (const tier of price.tiers) Object.freeze(tier);
    Object.freeze(price.tiers);
  }
  return Object.freeze(price);
}

/**
 * Table lookups in O(1) for exact names and O(distinct prefix lengths) for prefixes, built once per table.
 *
 * A name is looked up as: the name itself; then the same name with a compact date spelled with dashes
 * (`gpt-4o-20240513` → `gpt-4o-2024-05-13`, as the source data does) and without a snapshot suffix
 * (`-latest`, `-2024-08-06`, `-20250929`, and for Google `-001`), each as an exact match; then the longest
 * prefix entry. A prefix never prices a modality variant (`…-tts`, `…-image-…`, `…-audio-…`). Nothing
 * else is guessed: a name no entry matches has no price.
 *
 * The entries are frozen in place, so a price handed out cannot be altered for later callers.
 */
export class PriceIndex {
  readonly #providers = new Map<ProviderName, ProviderIndex>();

  constructor(table: readonly ModelPrice[]) {
    for (const price of table) {
      let index = this.#providers.get(price.provider);
      if (index === undefined) {
        index = { memo: new Map(), exact: new Map(), prefix: new Map(), prefixLengths: [] };
        this.#providers.set(price.provider, index);
      }
      const entries = price.match === "exact" ? index.exact : index.prefix;
      // The first entry for a name wins, as the first match in the source data's order does.
      if (!entries.has(price.model)) entries.set(price.model, freezePrice(price));
    }
    for (const index of this.#providers.values()) {
      const lengths = new Set<number>();
      for (const model of index.prefix.keys()) lengths.add(model.length);
      index.prefixLengths = [...lengths].sort((left, right) => right - left);
    }
  }

  /** The table's price for a model, or `undefined` when no entry matches it. */
  find(provider: ProviderName, model: string): ModelPrice | undefined {
    const index = this.#providers.get(provider);
    if (index === undefined) return undefined;
    const memo = index.memo.get(model);
    if (memo !== undefined) return memo ?? undefined;
    const found = this.#lookup(index, provider, model);
    if (index.memo.size >= MEMO_LIMIT) index.memo.clear();
    index.memo.set(model, found ?? null);
    return found;
  }

  #lookup(index: ProviderIndex, provider: ProviderName, model: string): ModelPrice | undefined {
    const name = normalizeModelName(provider, model);

    const exact = index.exact.get(name);
    if (exact !== undefined) return exact;
    const dashed = withDashedDates(name);
    const aliases = [dashed, withoutSnapshot(provider, dashed)];
    for (const alias of aliases) {
      const found = alias === name ? undefined : index.exact.get(alias);
      if (found !== undefined) return found;
    }

    if (MODALITY_VARIANT.test(name)) return undefined;
    return this.#longestPrefix(index, name) ?? (dashed === name ? undefined : this.#longestPrefix(index, dashed));
  }

  #longestPrefix(index: ProviderIndex, name: string): ModelPrice | undefined {
    for (const length of index.prefixLengths) {
      if (length > name.length) continue;
      const found = index.prefix.get(name.slice(0, length));
      if (found !== undefined) return found;
    }
    return undefined;
  }
}
