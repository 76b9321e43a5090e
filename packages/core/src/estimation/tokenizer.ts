import { Buffer } from "node:buffer";

/** The two BPE encodings Tollgate counts with: o200k (GPT-4o and later, and the proxy for Claude and Gemini). */
export type Encoding = "o200k_base" | "cl100k_base";

type CountTokens = (text: string) => number;

const loaded = new Map<Encoding, CountTokens>();
const loading = new Map<Encoding, Promise<CountTokens>>();

/** Above this many characters a text is bounded by characters instead of tokenised (see `upperBoundTokens`). */
export const tokenizeLimitCharacters = 1_000_000;
/** Texts are tokenised in slices of about this size, yielding to the event loop between slices. */
const sliceCharacters = 64 * 1024;

/**
 * Loads an encoding on first use. gpt-tokenizer's o200k ranks are ~2.4 MB and take ~0.4 s to load, so a process
 * that never guards an OpenAI call never pays for them.
 */
export function loadEncoding(encoding: Encoding): Promise<CountTokens> {
  const ready = loaded.get(encoding);
  if (ready !== undefined) return Promise.resolve(ready);
  let pending = loading.get(encoding);
  if (pending === undefined) {
    pending = (
      encoding === "o200k_base"
        ? import("gpt-tokenizer/encoding/o200k_base")
        : import("gpt-tokenizer/encoding/cl100k_base")
    ).then((module) => {
      const count: CountTokens = (text) => module.countTokens(text);
      loaded.set(encoding, count);
      return count;
    });
    loading.set(encoding, pending);
  }
  return pending;
}

/**
 * A count never below the true token count of a byte-level BPE encoding: every token covers at least one UTF-8
 * byte. (Characters are not a safe bound: a rare CJK character is three bytes and can be three tokens.) It is
 * generous for ordinary text: English prose is 4.7 characters per token, JSON 2.4, Japanese 1.0.
 */
export function upperBoundTokens(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/**
 * Counts the tokens of `text`. Long texts are counted in slices cut at whitespace, yielding to the event loop
 * between slices so a 1 MB prompt never blocks other requests for long; past `tokenizeLimitCharacters` the count
 * is the character bound, which is what a 10 MB prompt deserves (an input limit refuses it either way).
 */
export async function countTokens(text: string, encoding: Encoding): Promise<number> {
  if (text.length === 0) return 0;
  if (text.length > tokenizeLimitCharacters) return upperBoundTokens(text);
  const count = await loadEncoding(encoding);
  if (text.length <= sliceCharacters) return count(text);
  let total = 0;
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + sliceCharacters);
    if (end < text.length) {
      const space = text.lastIndexOf(" ", end);
      if (space > start + sliceCharacters / 2) end = space;
    }
    total += count(text.slice(start, end));
    start = end;
    if (start < text.length) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return total;
}
