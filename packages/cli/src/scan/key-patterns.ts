/**
 * The provider keys `tollgate scan` looks for, and the one pass over a text that finds them.
 *
 * Formats follow gitleaks (`cmd/generate/config/rules/openai.go`, `anthropic.go`, `gcp.go`), loosened on length
 * where a provider could lengthen its keys without notice, and kept strict on the parts that make a key that
 * provider's: the fixed prefix, OpenAI's `T3BlbkFJ` marker (base64 of "OpenAI"), Anthropic's trailing `AA`.
 */

export type ProviderName = "openai" | "anthropic" | "google";

export interface KeyDetector {
  provider: ProviderName;
  /** Which key of the provider's: `project`, `admin`, … Together with `provider` it names a SARIF rule. */
  kind: string;
  /** Shown to people: "OpenAI project key". */
  title: string;
  /** The fixed, public start of every key of this kind. Redaction may show it; it is never secret. */
  prefix: string;
  /** The whole key, boundaries excluded, as regular-expression source without capturing groups. */
  pattern: string;
  /** A fixed part inside the body (OpenAI's marker, Anthropic's tail) left out when judging placeholders. */
  fixedParts: readonly string[];
}

/** Characters a key is made of. A match must not be glued to more of them, or it is part of something longer. */
const keyCharacter = "[A-Za-z0-9_-]";
const openAiMarker = "T3BlbkFJ";

export const keyDetectors: readonly KeyDetector[] = [
  {
    provider: "anthropic",
    kind: "api",
    title: "Anthropic API key",
    prefix: "sk-ant-api03-",
    // Today 93 characters then `AA` (108 in all); a longer body is accepted so a new length is still caught.
    pattern: `sk-ant-api03-${keyCharacter}{93,200}AA`,
    fixedParts: ["AA"],
  },
  {
    provider: "anthropic",
    kind: "admin",
    title: "Anthropic admin key",
    prefix: "sk-ant-admin01-",
    pattern: `sk-ant-admin01-${keyCharacter}{93,200}AA`,
    fixedParts: ["AA"],
  },
  {
    provider: "openai",
    kind: "project",
    title: "OpenAI project key",
    prefix: "sk-proj-",
    // gitleaks pins 74 + marker + 74; any 20–150 on each side keeps working if OpenAI changes the length.
    pattern: `sk-proj-${keyCharacter}{20,150}${openAiMarker}${keyCharacter}{20,150}`,
    fixedParts: [openAiMarker],
  },
  {
    provider: "openai",
    kind: "service-account",
    title: "OpenAI service account key",
    prefix: "sk-svcacct-",
    pattern: `sk-svcacct-${keyCharacter}{20,150}${openAiMarker}${keyCharacter}{20,150}`,
    fixedParts: [openAiMarker],
  },
  {
    provider: "openai",
    kind: "admin",
    title: "OpenAI admin key",
    prefix: "sk-admin-",
    pattern: `sk-admin-${keyCharacter}{20,150}${openAiMarker}${keyCharacter}{20,150}`,
    fixedParts: [openAiMarker],
  },
  {
    provider: "openai",
    kind: "legacy",
    title: "OpenAI legacy user key",
    prefix: "sk-",
    // The pre-2024 user key. Real ones carry the marker at offset 20, but older scanners (and GitHub's first
    // partner pattern) match any 48 alphanumerics, and the boundary rule keeps that from matching inside words.
    pattern: "sk-[A-Za-z0-9]{48}",
    fixedParts: [openAiMarker],
  },
  {
    provider: "openai",
    kind: "other",
    title: "OpenAI key",
    prefix: "sk-",
    // Keys with a prefix the rules above do not name (`sk-None-…`, `sk-<project name>-…`): the marker alone
    // identifies them. Listed last so a named kind wins.
    pattern: `sk-${keyCharacter}{1,150}?${openAiMarker}${keyCharacter}{20,150}`,
    fixedParts: [openAiMarker],
  },
  {
    provider: "google",
    kind: "api",
    title: "Google API key",
    prefix: "AIza",
    // Gemini keys share this format with Maps and Firebase browser keys, which some apps ship on purpose:
    // those are for the allow list, not for a looser pattern.
    pattern: `AIza${keyCharacter}{35}`,
    fixedParts: [],
  },
];

const endBoundary = `(?!${keyCharacter})`;

/**
 * One group per detector, in order: the index of the group that matched names the detector. The expression starts
 * with the literal prefixes so V8 can skip ahead to them; the boundary before a key is checked in code
 * (`startsAtBoundary`), because a lookbehind there made every position of the text a match attempt (20 MB/s
 * instead of 1.4 GB/s on a minified bundle).
 */
const combinedSource = `(?:${keyDetectors.map((detector) => `(${detector.pattern})`).join("|")})${endBoundary}`;

export interface KeyMatch {
  /** Offset of the key's first character in the text (UTF-16 code units). */
  index: number;
  /** The key itself. Never leaves the scanner except through `redactKey` and `fingerprintKey`. */
  key: string;
  detector: KeyDetector;
}

/**
 * Every provider key in `text`, in order of position, placeholders left out. One global regular expression over
 * the whole text: V8 scans for the literal starts (`sk-`, `AIza`) at gigabytes a second, so a 5 MB single-line
 * bundle costs milliseconds and nothing is ever split into lines.
 */
export function findKeyMatches(text: string): KeyMatch[] {
  const expression = new RegExp(combinedSource, "g");
  const matches: KeyMatch[] = [];
  for (let match = expression.exec(text); match !== null; match = expression.exec(text)) {
    if (!startsAtBoundary(text, match.index)) {
      // Part of a longer token; a key could still start inside it, so look again one character on.
      expression.lastIndex = match.index + 1;
      continue;
    }
    const groupIndex = match.findIndex((group, index) => index > 0 && group !== undefined);
    const detector = keyDetectors[groupIndex - 1];
    if (detector === undefined) continue;
    if (isPlaceholderKey(match[0], detector)) continue;
    matches.push({ index: match.index, key: match[0], detector });
  }
  return matches;
}

/**
 * Before a key: no key character, except where the character before ends an escape that is not text in the file's
 * own language — `\n`, `\t`, `\u0022` inside a JSON string (source maps, inlined `.env` files) or `%3D` in a URL.
 * Without that exception a key starting a line in a source map's `sourcesContent` would be missed.
 */
function startsAtBoundary(text: string, index: number): boolean {
  if (index === 0 || !isKeyCharacterCode(text.charCodeAt(index - 1))) return true;
  const before = text.slice(Math.max(0, index - 6), index);
  return /(?:\\[nrtbfv]|\\u[0-9A-Fa-f]{4}|%[0-9A-Fa-f]{2})$/.test(before);
}

function isKeyCharacterCode(code: number): boolean {
  return (
    (code >= 0x30 && code <= 0x39) || // 0-9
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x61 && code <= 0x7a) || // a-z
    code === 0x5f || // _
    code === 0x2d // -
  );
}

/**
 * Words that only a person writes into a key-shaped string, in the casings people type: `example`, `EXAMPLE`,
 * `Example` — not `eXaMpLe`, which is what a random body produces. Ignoring case would hide about one real key in
 * 90,000 (`xXxXx`, `dUMMY` turn up that often in 148 random characters); with three casings it is under one in
 * a million. Shorter words (`test`, `fake`, `your`) only count as part of a longer phrase, for the same reason.
 */
const placeholderWordList = [
  "example",
  "placeholder",
  "redacted",
  "replace",
  "insert",
  "dummy",
  "changeme",
  "xxxxx",
  "your-key",
  "your_key",
  "yourkey",
  "your-api-key",
  "your_api_key",
  "yourapikey",
  "fake-key",
  "fake_key",
  "fakekey",
  "not-a-real",
  "not_a_real",
  "notareal",
  "not-real",
  "notreal",
];
const placeholderWords = new RegExp(
  placeholderWordList
    .flatMap((word) => [word, word.toUpperCase(), word.charAt(0).toUpperCase() + word.slice(1)])
    .join("|"),
);

/** Below this many bits a character, a body is a repeat (`xxxx…`, `abab…`) rather than random. gitleaks uses 3 for OpenAI. */
const minimumBitsPerCharacter = 3;

/** A run this long of consecutive characters (`abcdefgh`, `12345678`, `hgfedcba`) is typed, not generated. */
const sequentialRunLength = 8;

/**
 * Whether a key-shaped match is a placeholder from documentation or a `.env.example`, not a key. The rule, applied
 * to the body — the match without its prefix and without the provider's fixed parts:
 * - fewer than 3 bits of Shannon entropy a character (`sk-` + 48 × `a`, `xXxX…`), or
 * - a run of 8 consecutive characters up or down the alphabet or digits (`abcdefgh…`, `12345678`), or
 * - a placeholder word: example, placeholder, redacted, replace, insert, dummy, changeme, xxxxx, your-key,
 *   your-api-key, fake-key, not-a-real, not-real (`-`, `_` or nothing between words; lower, upper or title case).
 * Short forms (`sk-...`, `sk-xxxx`, `sk-your-key-here`) never reach this: they are too short for any pattern.
 */
export function isPlaceholderKey(key: string, detector: KeyDetector): boolean {
  let body = key.startsWith(detector.prefix) ? key.slice(detector.prefix.length) : key;
  for (const part of detector.fixedParts) body = body.replace(part, "");
  if (placeholderWords.test(body)) return true;
  if (shannonBitsPerCharacter(body) < minimumBitsPerCharacter) return true;
  return hasSequentialRun(body, sequentialRunLength);
}

function shannonBitsPerCharacter(text: string): number {
  if (text.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const character of text) counts.set(character, (counts.get(character) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const probability = count / text.length;
    bits -= probability * Math.log2(probability);
  }
  return bits;
}

function hasSequentialRun(text: string, length: number): boolean {
  let ascending = 1;
  let descending = 1;
  for (let index = 1; index < text.length; index++) {
    const step = text.charCodeAt(index) - text.charCodeAt(index - 1);
    ascending = step === 1 ? ascending + 1 : 1;
    descending = step === -1 ? descending + 1 : 1;
    if (ascending >= length || descending >= length) return true;
  }
  return false;
}
