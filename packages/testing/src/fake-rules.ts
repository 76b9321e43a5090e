import type { FakeUsage } from "./fake-usage";
import type { FakeFault } from "./faults";
import { isRecord } from "./is-record";

/** The providers the fake speaks for. */
export type FakeProviderName = "openai" | "anthropic" | "google";

/** Every endpoint the fake serves, named `<provider>.<operation>`. */
export type FakeOperation =
  | "openai.chat"
  | "openai.responses"
  | "openai.embeddings"
  | "openai.models"
  | "openai.usageReport"
  | "openai.costReport"
  | "anthropic.messages"
  | "anthropic.countTokens"
  | "anthropic.usageReport"
  | "anthropic.costReport"
  | "google.generateContent"
  | "google.streamGenerateContent"
  | "google.embedContent"
  | "google.countTokens";

/** Which requests a rule applies to; every field given must match, an empty match matches everything. */
export interface FakeRuleMatch {
  provider?: FakeProviderName;
  operation?: FakeOperation;
  model?: string;
  stream?: boolean;
}

/** Changes the usage reported for, or the faults injected into, the requests it matches. */
export interface FakeRule {
  match?: FakeRuleMatch;
  /** Overrides the derived usage; the fields given win. */
  usage?: FakeUsage;
  fault?: FakeFault;
  /** Applies to the next `times` matching requests, then is dropped. Default: forever. */
  times?: number;
}

/** What the `x-fake-rule` request header may carry: a rule without `match` or `times`, for that request only. */
export type FakeRuleOverride = Pick<FakeRule, "usage" | "fault">;

/** Name of the per-request override header. */
export const fakeRuleHeaderName = "x-fake-rule";

/**
 * Headers that apply `override` to one request, for the SDKs' per-request header options
 * (`{ headers }` for OpenAI and Anthropic, `config.httpOptions.headers` for genai, `customHeaders` for the old
 * Gemini SDK).
 */
export function fakeRuleHeader(override: FakeRuleOverride): Record<string, string> {
  return { [fakeRuleHeaderName]: JSON.stringify(override) };
}

/** What a rule can be matched against. */
export interface RequestFacts {
  provider: FakeProviderName;
  operation: FakeOperation;
  model: string | undefined;
  stream: boolean;
}

interface RuleEntry {
  rule: FakeRule;
  remaining: number | undefined;
}

/**
 * The ordered rule list. Rules given at start survive `reset()` with their `times` restored; rules added later
 * do not. All matching rules apply, in order, so a later rule overrides an earlier one field by field.
 */
export class RuleBook {
  readonly #initialRules: readonly FakeRule[];
  #entries: RuleEntry[];

  constructor(initialRules: readonly FakeRule[]) {
    this.#initialRules = initialRules;
    this.#entries = initialRules.map(createEntry);
  }

  add(rule: FakeRule): () => void {
    const entry = createEntry(rule);
    this.#entries.push(entry);
    return () => {
      this.#entries = this.#entries.filter((candidate) => candidate !== entry);
    };
  }

  clear(): void {
    this.#entries = [];
  }

  reset(): void {
    this.#entries = this.#initialRules.map(createEntry);
  }

  /** The rules matching `facts`, in order, each use counted against its `times`. */
  take(facts: RequestFacts): FakeRule[] {
    const taken: FakeRule[] = [];
    for (const entry of this.#entries) {
      if (entry.remaining !== undefined && entry.remaining <= 0) {
        continue;
      }
      if (!matches(entry.rule.match, facts)) {
        continue;
      }
      taken.push(entry.rule);
      if (entry.remaining !== undefined) {
        entry.remaining -= 1;
      }
    }
    this.#entries = this.#entries.filter((entry) => entry.remaining === undefined || entry.remaining > 0);
    return taken;
  }
}

/** Reads the `x-fake-rule` header; throws a readable error for anything but a JSON object. */
export function parseRuleOverride(headerValue: string): FakeRuleOverride {
  let parsed: unknown;
  try {
    parsed = JSON.parse(headerValue);
  } catch {
    throw new Error(`${fakeRuleHeaderName} is not valid JSON`);
  }
  if (!isRecord(parsed)) {
    throw new Error(`${fakeRuleHeaderName} must be a JSON object with optional "usage" and "fault"`);
  }
  const override: FakeRuleOverride = {};
  if (isRecord(parsed.usage)) {
    override.usage = pickFields<FakeUsage>(parsed.usage, usageFieldTypes);
  }
  if (isRecord(parsed.fault)) {
    override.fault = pickFields<FakeFault>(parsed.fault, faultFieldTypes);
  }
  return override;
}

const usageFieldTypes = {
  inputTokens: "number",
  cachedInputTokens: "number",
  cacheWriteInputTokens: "number",
  cacheWrite1hInputTokens: "number",
  outputTokens: "number",
  reasoningTokens: "number",
} as const satisfies Record<keyof FakeUsage, "number" | "boolean">;

const faultFieldTypes = {
  latencyMs: "number",
  chunkDelayMs: "number",
  cutAfterChunks: "number",
  status: "number",
  retryAfterSeconds: "number",
  shouldRetry: "boolean",
  omitUsage: "boolean",
  malformedStream: "boolean",
} as const satisfies Record<keyof FakeFault, "number" | "boolean">;

/** Copies only the known fields of the expected type, so a typo in a header cannot smuggle in odd values. */
function pickFields<Target>(source: Record<string, unknown>, fieldTypes: Record<string, "number" | "boolean">): Target {
  const picked: Record<string, number | boolean> = {};
  for (const [key, expectedType] of Object.entries(fieldTypes)) {
    const value = source[key];
    if (typeof value === expectedType && (typeof value === "number" || typeof value === "boolean")) {
      picked[key] = value;
    }
  }
  return picked as Target;
}

function createEntry(rule: FakeRule): RuleEntry {
  return { rule, remaining: rule.times };
}

function matches(match: FakeRuleMatch | undefined, facts: RequestFacts): boolean {
  if (match === undefined) {
    return true;
  }
  return (
    (match.provider === undefined || match.provider === facts.provider) &&
    (match.operation === undefined || match.operation === facts.operation) &&
    (match.model === undefined || match.model === facts.model) &&
    (match.stream === undefined || match.stream === facts.stream)
  );
}
