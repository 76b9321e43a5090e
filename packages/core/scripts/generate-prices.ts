/**
 * Writes `src/pricing/price-table.generated.ts` from the price data bundled inside `@pydantic/genai-prices`
 * (a devDependency), for the providers openai, anthropic and google.
 *
 *   pnpm --filter @tollgate/core exec tsx scripts/generate-prices.ts [--check] [--as-of=YYYY-MM-DD]
 *
 * Offline and deterministic: it reads the data compiled into the package (`findProvider`) and never calls
 * `updatePrices()`, which would fetch a newer file. Entries are sorted; the output depends only on the
 * package's data and on the as-of date (default: today, UTC), which decides whether a dated price change in
 * the data is already in force. A change still in the future cannot be represented, so that model is left out.
 *
 * `--check` writes nothing and exits 1 when the file on disk differs from what would be written.
 * A report of what was left out, merged or approximated, and a diff against the previous table, go to stdout.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type ConditionalPrice,
  findProvider,
  type MatchLogic,
  type ModelInfo,
  type ModelPrice as VendorPrices,
} from "@pydantic/genai-prices";
import type { ModelPrice, PriceTier } from "../src/pricing/model-price";
import type { ProviderName } from "../src/usage/token-usage";

const SOURCE_PACKAGE = "@pydantic/genai-prices";
const SOURCE_URL = "https://github.com/pydantic/genai-prices";
const PROVIDERS: readonly ProviderName[] = ["anthropic", "google", "openai"];

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const outputPath = join(packageRoot, "src/pricing/price-table.generated.ts");

/** Vendor price keys the table represents, and the `ModelPrice` field each becomes. */
const REPRESENTED_KEYS = {
  input_mtok: "input",
  output_mtok: "output",
  cache_read_mtok: "cachedInput",
  cache_write_mtok: "cacheWrite",
  cache_write_1h_mtok: "cacheWrite1h",
} as const satisfies Record<string, keyof PriceTier>;
type RepresentedKey = keyof typeof REPRESENTED_KEYS;

/**
 * Vendor price keys that are left out, while the model is kept: per-call tool fees Tollgate does not meter,
 * and separate rates for audio/image/video input on models whose main use is text. `TokenUsage` has no
 * modality split, so such input is counted at the text rate. Each kept model that has one is reported.
 */
const IGNORED_KEYS = new Set([
  "web_searches_kcount",
  "storage_searches_kcount",
  "input_audio_mtok",
  "cache_audio_read_mtok",
  "input_image_mtok",
  "cache_image_read_mtok",
  "input_video_mtok",
]);

/** Models whose main use is audio, image or video, priced per modality: text rates would under-count them. */
const MODALITY_MODEL = /audio|realtime|transcribe|tts|image|live|whisper|omni/;

/** Vendor ids left out on purpose: models the vendors have shut down, and free endpoints with no tokens. */
const LEFT_OUT: Readonly<Record<ProviderName, Readonly<Record<string, string>>>> = {
  openai: {
    ada: "retired GPT-3 completions model",
    babbage: "retired GPT-3 completions model",
    curie: "retired GPT-3 completions model",
    davinci: "retired GPT-3 completions model",
    "text-davinci-002": "retired GPT-3 completions model",
    "text-davinci-003": "retired GPT-3 completions model",
    moderation: "free moderation endpoint; its `contains` match cannot be expressed as exact/prefix",
  },
  anthropic: {
    "claude-v1": "retired Claude 1 model",
    "claude-2": "retired Claude 2 model",
  },
  google: {
    "gemini-pro": "retired Gemini 1.0 model",
    "gemini-1.0-pro-vision-001": "retired Gemini 1.0 model",
  },
};

interface Report {
  skipped: string[];
  approximated: string[];
  merged: string[];
  /** Vendor price key left out → the kept models that have it. */
  ignoredKeys: Map<string, string[]>;
}

interface Options {
  check: boolean;
  asOf: string;
}

function parseArguments(argv: readonly string[]): Options {
  let check = false;
  let asOf = new Date().toISOString().slice(0, 10);
  for (const argument of argv) {
    if (argument === "--check") check = true;
    else if (argument.startsWith("--as-of=")) asOf = argument.slice("--as-of=".length);
    else throw new Error(`Unknown argument ${argument}; expected --check or --as-of=YYYY-MM-DD`);
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf)) throw new Error(`--as-of must be YYYY-MM-DD, got ${asOf}`);
  return { check, asOf };
}

function sourceVersion(): string {
  const require = createRequire(import.meta.url);
  // The package's `exports` hide package.json; walk up from its resolved entry point instead.
  const entry = require.resolve(SOURCE_PACKAGE);
  const manifest: unknown = JSON.parse(readFileSync(join(dirname(entry), "..", "package.json"), "utf8"));
  if (typeof manifest !== "object" || manifest === null || !("version" in manifest)) {
    throw new Error(`Cannot read the version of ${SOURCE_PACKAGE}`);
  }
  return String(manifest.version);
}

// ---------------------------------------------------------------------------------------------------------
// Prices

interface VendorTiered {
  base: number;
  tiers: { start: number; price: number }[];
}

function isTiered(value: unknown): value is VendorTiered {
  return typeof value === "object" && value !== null && "base" in value && "tiers" in value;
}

/** The prices in force on `asOf`, the way the package picks them, or why they cannot be represented. */
function pricesInForce(model: ModelInfo, asOf: string): { prices: VendorPrices } | { skip: string } {
  if (!Array.isArray(model.prices)) return { prices: model.prices };
  const conditional: ConditionalPrice[] = model.prices;
  for (const { constraint } of conditional) {
    if (constraint === undefined) continue;
    if (constraint.type === "time_of_date") return { skip: "price depends on the time of day" };
    if (constraint.start_date > asOf) {
      return { skip: `price changes on ${constraint.start_date}, after the as-of date ${asOf}` };
    }
  }
  // The package scans from the last entry back and takes the first one in force; the first has no constraint.
  for (let index = conditional.length - 1; index >= 0; index--) {
    const candidate = conditional[index];
    if (candidate === undefined) continue;
    if (candidate.constraint === undefined || candidate.constraint.type !== "start_date") return candidate;
    if (candidate.constraint.start_date <= asOf) return candidate;
  }
  return { skip: "no price in force" };
}

function checkedRate(value: number, where: string): number {
  if (!Number.isFinite(value) || value < 0) throw new Error(`${where}: invalid price ${value}`);
  const micro = value * 1e6;
  if (Math.abs(micro - Math.round(micro)) > 1e-6) {
    throw new Error(`${where}: price ${value} has more precision than 1e-6 USD per 1M tokens`);
  }
  return value;
}

/** The rate of one key for calls whose input tokens exceed `threshold` (`-1`: the base rate). */
function rateAbove(value: number | VendorTiered, threshold: number): number {
  if (!isTiered(value)) return value;
  let rate = value.base;
  let start = Number.NEGATIVE_INFINITY;
  for (const tier of value.tiers) {
    // The package applies a tier when input tokens > start: for every count above `threshold` iff start ≤ it.
    if (tier.start <= threshold && tier.start > start) {
      rate = tier.price;
      start = tier.start;
    }
  }
  return rate;
}

type PriceFields = Omit<ModelPrice, "provider" | "model" | "match">;

/** Converts the vendor's prices, or says why they cannot be represented. */
function convertPrices(
  vendor: VendorPrices,
  where: string,
): { price: PriceFields; ignored: string[] } | { skip: string } {
  const rates = new Map<RepresentedKey, number | VendorTiered>();
  const ignored: string[] = [];
  for (const [key, value] of Object.entries(vendor)) {
    if (value === undefined) continue;
    if (key in REPRESENTED_KEYS) {
      if (typeof value !== "number" && !isTiered(value)) return { skip: `unexpected value for ${key}` };
      rates.set(key as RepresentedKey, value);
    } else if (IGNORED_KEYS.has(key)) {
      ignored.push(key);
    } else {
      return { skip: `priced by ${key}, which the table cannot represent` };
    }
  }

  const thresholds = new Set<number>();
  for (const value of rates.values()) {
    if (isTiered(value)) for (const tier of value.tiers) thresholds.add(tier.start);
  }

  const fieldsAbove = (threshold: number): Partial<Record<keyof PriceTier, number>> => {
    const fields: Partial<Record<keyof PriceTier, number>> = {};
    for (const [key, value] of rates) {
      fields[REPRESENTED_KEYS[key]] = checkedRate(rateAbove(value, threshold), `${where} ${key}`);
    }
    return fields;
  };

  const base = fieldsAbove(-1);
  // A model with no token price at all is free (Gemma on the Gemini API); an embedding model has no output.
  const price: PriceFields = { input: base.input ?? 0, output: base.output ?? 0 };
  if (base.cachedInput !== undefined) price.cachedInput = base.cachedInput;
  if (base.cacheWrite !== undefined) price.cacheWrite = base.cacheWrite;
  if (base.cacheWrite1h !== undefined) price.cacheWrite1h = base.cacheWrite1h;

  if (thresholds.size > 0) {
    price.tiers = [...thresholds]
      .sort((left, right) => left - right)
      .map((threshold) => {
        const fields = fieldsAbove(threshold);
        const tier: PriceTier = { minInputTokens: threshold + 1, input: fields.input ?? 0, output: fields.output ?? 0 };
        if (fields.cachedInput !== undefined) tier.cachedInput = fields.cachedInput;
        if (fields.cacheWrite !== undefined) tier.cacheWrite = fields.cacheWrite;
        if (fields.cacheWrite1h !== undefined) tier.cacheWrite1h = fields.cacheWrite1h;
        return tier;
      });
  }
  return { price, ignored };
}

// ---------------------------------------------------------------------------------------------------------
// Matching

interface MatchKey {
  match: "exact" | "prefix";
  model: string;
}

interface ConvertedMatch {
  keys: MatchKey[];
  /** Alternatives left out: the table matches fewer names than the vendor there. */
  narrowed: string[];
  /** Alternatives made wider than the vendor's. */
  widened: string[];
}

const DATED_SUFFIXES = ["\\d{4}-\\d{2}-\\d{2}$", "\\d{8}$"];
const NEGATIVE_LOOKAHEAD = /^\^\(\?![^()]*(\([^()]*\)[^()]*)*\)$/;

/** `^literal$` or `^literal-<date>$` (a dated snapshot, which `findPrice` resolves) → the literal. */
function literalOfRegex(source: string): string | undefined {
  const match = /^\^((?:[a-z0-9_:-]|\\\.)+)(.*)$/.exec(source);
  if (!match) return undefined;
  const literal = (match[1] ?? "").replaceAll("\\.", ".");
  const tail = match[2] ?? "";
  if (tail === "$") return literal;
  return DATED_SUFFIXES.includes(tail) && literal.endsWith("-") ? literal.slice(0, -1) : undefined;
}

function convertMatch(logic: MatchLogic): ConvertedMatch {
  const result: ConvertedMatch = { keys: [], narrowed: [], widened: [] };
  const visit = (node: MatchLogic): void => {
    if ("or" in node) {
      for (const child of node.or) visit(child);
    } else if ("equals" in node) {
      result.keys.push({ match: "exact", model: node.equals.toLowerCase() });
    } else if ("starts_with" in node) {
      result.keys.push({ match: "prefix", model: node.starts_with.toLowerCase() });
    } else if ("contains" in node) {
      // `findPrice` strips `models/`-style resource paths, so the family name starts the remaining name.
      result.keys.push({ match: "prefix", model: node.contains.toLowerCase() });
      result.narrowed.push(`contains "${node.contains}" → prefix`);
    } else if ("ends_with" in node) {
      result.keys.push({ match: "exact", model: node.ends_with.toLowerCase() });
      result.narrowed.push(`ends_with "${node.ends_with}" → exact`);
    } else if ("regex" in node) {
      const literal = literalOfRegex(node.regex);
      if (literal === undefined) result.narrowed.push(`regex ${node.regex} dropped`);
      else result.keys.push({ match: "exact", model: literal.toLowerCase() });
    } else if ("and" in node) {
      const [first, second, ...rest] = node.and;
      if (
        rest.length === 0 &&
        first !== undefined &&
        "starts_with" in first &&
        second !== undefined &&
        "regex" in second &&
        NEGATIVE_LOOKAHEAD.test(second.regex)
      ) {
        result.keys.push({ match: "prefix", model: first.starts_with.toLowerCase() });
        result.widened.push(
          `prefix "${first.starts_with}" without its exclusion ${second.regex} (findPrice refuses modality variants such as -tts under a prefix)`,
        );
      } else {
        result.narrowed.push(`${JSON.stringify(node)} dropped`);
      }
    }
  };
  visit(logic);
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// Table

interface Row extends ModelPrice {
  vendorId: string;
}

function sameRates(left: PriceFields, right: PriceFields): boolean {
  return JSON.stringify(left) === JSON.stringify(right);
}

function buildTable(asOf: string, report: Report): { rows: Row[]; modelsPerProvider: Map<ProviderName, number> } {
  const rows = new Map<string, Row>();
  const modelsPerProvider = new Map<ProviderName, number>();

  for (const provider of PROVIDERS) {
    const source = findProvider({ providerId: provider });
    if (source === undefined || source.id !== provider)
      throw new Error(`${SOURCE_PACKAGE} has no provider ${provider}`);
    let kept = 0;

    for (const model of source.models) {
      const where = `${provider}/${model.id}`;
      const skip = (reason: string): void => {
        report.skipped.push(`${where}: ${reason}`);
      };

      const leftOut = LEFT_OUT[provider][model.id];
      if (leftOut !== undefined) {
        skip(leftOut);
        continue;
      }
      if (model.deprecated === true) {
        skip("marked deprecated in the source");
        continue;
      }
      if (provider === "google" && model.id.startsWith("claude-")) {
        skip("Claude on Vertex AI is called through Anthropic's SDK and priced under provider anthropic");
        continue;
      }
      if (MODALITY_MODEL.test(model.id)) {
        skip("audio/image/video model priced per modality; TokenUsage has no modality split");
        continue;
      }
      const inForce = pricesInForce(model, asOf);
      if ("skip" in inForce) {
        skip(inForce.skip);
        continue;
      }
      const converted = convertPrices(inForce.prices, where);
      if ("skip" in converted) {
        skip(converted.skip);
        continue;
      }
      const { keys, narrowed, widened } = convertMatch(model.match);
      if (keys.length === 0) {
        skip(`no match the table can express (${JSON.stringify(model.match)})`);
        continue;
      }

      if (Array.isArray(model.prices)) report.approximated.push(`${where}: dated prices resolved as of ${asOf}`);
      for (const key of converted.ignored) {
        report.ignoredKeys.set(key, [...(report.ignoredKeys.get(key) ?? []), where]);
      }
      for (const note of narrowed) report.approximated.push(`${where}: narrower match: ${note}`);
      for (const note of widened) report.approximated.push(`${where}: wider match: ${note}`);

      kept += 1;
      for (const key of keys) {
        const id = `${provider}\u0000${key.match}\u0000${key.model}`;
        const existing = rows.get(id);
        if (existing !== undefined) {
          const { provider: _p, model: _m, match: _k, vendorId: _v, ...existingPrice } = existing;
          if (!sameRates(existingPrice, converted.price)) {
            // The package takes the first matching entry in its list order; so do we.
            report.merged.push(`${provider} ${key.match} "${key.model}": ${existing.vendorId} kept over ${model.id}`);
          }
          continue;
        }
        rows.set(id, { provider, model: key.model, match: key.match, ...converted.price, vendorId: model.id });
      }
    }
    modelsPerProvider.set(provider, kept);
  }

  const sorted = [...rows.values()].sort(
    (left, right) =>
      compare(left.provider, right.provider) || compare(left.model, right.model) || compare(left.match, right.match),
  );
  return { rows: sorted, modelsPerProvider };
}

function compare(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------------------
// Output

const FIELD_ORDER = ["cachedInput", "cacheWrite", "cacheWrite1h"] as const;

function renderTier(tier: PriceTier): string {
  const parts = [`minInputTokens: ${tier.minInputTokens}`, `input: ${tier.input}`, `output: ${tier.output}`];
  for (const field of FIELD_ORDER) if (tier[field] !== undefined) parts.push(`${field}: ${tier[field]}`);
  return `{ ${parts.join(", ")} }`;
}

function renderRow(row: Row): string {
  const parts = [
    `provider: ${JSON.stringify(row.provider)}`,
    `model: ${JSON.stringify(row.model)}`,
    `match: ${JSON.stringify(row.match)}`,
    `input: ${row.input}`,
    `output: ${row.output}`,
  ];
  for (const field of FIELD_ORDER) if (row[field] !== undefined) parts.push(`${field}: ${row[field]}`);
  if (row.tiers !== undefined) parts.push(`tiers: [${row.tiers.map(renderTier).join(", ")}]`);
  return `  { ${parts.join(", ")} },`;
}

function render(rows: readonly Row[], version: string): string {
  return `// Generated — do not edit. Regenerate with:
//   pnpm --filter @tollgate/core exec tsx scripts/generate-prices.ts
//
// Source: ${SOURCE_PACKAGE} ${version} (${SOURCE_URL}), providers openai, anthropic and google.
// Copyright (c) Pydantic Services Inc. 2025 to present. Used under the MIT License; the full notice is in
// packages/core/THIRD_PARTY_NOTICES.md.
//
// USD per 1M tokens. Models priced per modality (audio, image, video), deprecated or retired ones, and
// prices with a scheduled change still to come are left out; the generator reports each one.
import type { ModelPrice } from "./model-price";

/** Where {@link PRICE_TABLE} comes from. */
export const PRICE_TABLE_SOURCE = { package: ${JSON.stringify(SOURCE_PACKAGE)}, version: ${JSON.stringify(version)} } as const;

/** Known model prices, sorted by provider, model and match. Look prices up with \`findPrice\`. */
export const PRICE_TABLE: readonly ModelPrice[] = [
${rows.map(renderRow).join("\n")}
];
`;
}

async function previousTable(): Promise<readonly ModelPrice[]> {
  try {
    const module: { PRICE_TABLE?: readonly ModelPrice[] } = await import("../src/pricing/price-table.generated");
    return module.PRICE_TABLE ?? [];
  } catch {
    return [];
  }
}

function rowKey(row: ModelPrice): string {
  return `${row.provider} ${row.match} ${row.model}`;
}

function priceText(row: ModelPrice & { vendorId?: string }): string {
  const { provider: _p, model: _m, match: _k, vendorId: _v, ...price } = row;
  return JSON.stringify(price);
}

function diff(before: readonly ModelPrice[], after: readonly Row[]): string[] {
  const old = new Map(before.map((row) => [rowKey(row), priceText(row)]));
  const lines: string[] = [];
  for (const row of after) {
    const key = rowKey(row);
    const previous = old.get(key);
    const current = priceText(row);
    if (previous === undefined) lines.push(`+ ${key} ${current}`);
    else if (previous !== current) lines.push(`~ ${key} ${previous} → ${current}`);
    old.delete(key);
  }
  for (const [key, previous] of old) lines.push(`- ${key} ${previous}`);
  return lines;
}

async function main(): Promise<void> {
  const options = parseArguments(process.argv.slice(2));
  const version = sourceVersion();
  const report: Report = { skipped: [], approximated: [], merged: [], ignoredKeys: new Map() };
  const { rows, modelsPerProvider } = buildTable(options.asOf, report);
  const text = render(rows, version);

  let current = "";
  try {
    current = readFileSync(outputPath, "utf8");
  } catch {
    // First run.
  }
  const changes = diff(await previousTable(), rows);

  const print = (title: string, lines: readonly string[]): void => {
    console.log(`\n${title} (${lines.length})`);
    for (const line of lines) console.log(`  ${line}`);
  };
  console.log(`${SOURCE_PACKAGE} ${version}, prices in force on ${options.asOf}`);
  for (const provider of PROVIDERS) {
    const rowCount = rows.filter((row) => row.provider === provider).length;
    console.log(`  ${provider}: ${modelsPerProvider.get(provider) ?? 0} source models, ${rowCount} table rows`);
  }
  print("Skipped", report.skipped);
  print("Approximated", report.approximated);
  print(
    "Price keys not represented (kept models that have them)",
    [...report.ignoredKeys]
      .sort(([left], [right]) => compare(left, right))
      .map(([key, models]) => `${key}: ${models.join(", ")}`),
  );
  print("Overlapping entries (first in source order kept)", report.merged);
  print("Changes against the previous table", changes);

  if (options.check) {
    if (current !== text) {
      console.error(`\n${outputPath} is out of date; run the generator without --check.`);
      process.exitCode = 1;
    }
    return;
  }
  if (current !== text) writeFileSync(outputPath, text);
  console.log(`\n${current === text ? "Unchanged" : "Wrote"} ${outputPath}`);
}

try {
  await main();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 2;
}
