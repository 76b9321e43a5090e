/**
 * Local token counting with gpt-tokenizer, loaded lazily, plus a byte-count upper bound for text too large to
 * tokenise.
 *
 * Measured on the 2-vCPU development box (Node 20.20, gpt-tokenizer 4.0.0; the box is shared and noisy, ±50%):
 * - Loading: `import("gpt-tokenizer/encoding/o200k_base")` takes 310–740 ms (cl100k_base 120–330 ms; both up to
 *   twice that under load), ~50 MB of heap. Module evaluation is synchronous: the event loop stalls for that long,
 *   once. Call `preloadTokenizer()` at start-up to pay it before the first request.
 * - Counting (o200k, sliced, yields included): English prose 0.4–0.7 M tokens/s on a first pass, 1.4–1.6 M/s over
 *   10 MB; JSON ~1 M/s; Japanese prose 0.8–0.95 M/s; random printable ASCII 0.5 M/s; random CJK ideographs
 *   ~0.2 M/s (~10 µs per character, the slowest input found).
 * - Pathological input: gpt-tokenizer's merge step is quadratic in the length of one pre-token. 100 kB of random
 *   CJK ideographs without punctuation, or a 200 kB run of whitespace, took 45–150 s in a single synchronous call.
 *   Such runs are cut into pieces of at most `MAX_RUN_CHARS` before counting (see `textPieces`); the longest
 *   event-loop stall measured while counting any input is then 10–40 ms.
 */

/** The encodings Tollgate loads. o200k_base: GPT-4o and later, and the proxy for Claude and Gemini; cl100k_base:
 * GPT-4, GPT-3.5 and the text-embedding-3 / ada-002 embedding models. */
export type EncodingName = "o200k_base" | "cl100k_base";

/** A token count and how it was obtained: exact tokenisation, or the byte-count upper bound. */
export interface TokenCount {
  tokens: number;
  method: "tokenizer" | "heuristic";
}

export interface TokenizerOptions {
  /**
   * Above this many characters (UTF-16 code units, summed over all texts of one call) the tokenizer is skipped and
   * the UTF-8 byte count is used as the token count, an upper bound. Default 1,000,000 (about 1 MB of ASCII).
   */
  maxTokenizeChars?: number;
  /** Largest piece of text handed to the tokenizer in one synchronous call. Default 16,384 characters. */
  sliceChars?: number;
  /** Work for at most this long before yielding to the event loop (async counting only). Default 10 ms. */
  yieldAfterMs?: number;
  /**
   * Time budget (wall clock, yields included) of one async count. Past it, the text not yet counted is bounded by
   * its UTF-8 bytes instead (`method: "heuristic"`). Default 1,000 ms: ~1 MB of prose or JSON takes 0.2–0.7 s here,
   * while 1 MB of random CJK ideographs, the slowest input found, would take ~10 s of CPU.
   */
  maxTokenizeMs?: number;
}

/** Default for `TokenizerOptions.maxTokenizeChars`. */
export const DEFAULT_MAX_TOKENIZE_CHARS = 1_000_000;

/**
 * Default for `TokenizerOptions.sliceChars`. 64 K characters of random printable ASCII take ~80 ms in one call on
 * this box, 16 K take ~20 ms; 16 K of prose take 2–8 ms.
 */
export const DEFAULT_SLICE_CHARS = 16_384;

/** Default for `TokenizerOptions.yieldAfterMs`. */
export const DEFAULT_YIELD_AFTER_MS = 10;

/** Default for `TokenizerOptions.maxTokenizeMs`. */
export const DEFAULT_MAX_TOKENIZE_MS = 1_000;

/**
 * Longest run of one character class (letters and marks; other non-space symbols; whitespace) counted as it is.
 * A longer run is cut into pieces of this size, which bounds one pre-token to about twice this length: 512 random
 * CJK ideographs take ~3 ms, where 8,192 take ~450 ms. Natural text almost never has such runs (words, CJK
 * clauses between punctuation, indentation are all far shorter), so counts stay exact; where a cut does happen it
 * can split a token, which changes the count by one or two tokens per cut (measured).
 */
export const MAX_RUN_CHARS = 256;

/**
 * gpt-tokenizer caches the merges of every pre-token that is not itself a vocabulary entry (rare words, CJK runs),
 * 100,000 entries by default, without a size limit per entry. Adversarial text fills it with long entries: ~5 kB
 * each for 256-character runs of random CJK (measured: 51 MB per 10,000), so ~500 MB at the default. Tollgate
 * lowers it to this many entries for the encodings it loads, which bounds the cache near 50 MB. Ordinary words are
 * vocabulary entries and never reach the cache, so prose counts no slower (measured within noise). The setting is
 * per encoding module, so it also applies to other users of `gpt-tokenizer/encoding/*` in the same process.
 */
export const MERGE_CACHE_ENTRIES = 10_000;

type Encoder = (text: string) => number;

interface EncodingModule {
  countTokens: (input: string, encodeOptions?: { disallowedSpecial?: Set<string> }) => number;
  setMergeCacheSize: (size: number) => void;
}

// Text such as "<|endoftext|>" in a prompt is ordinary text to the provider's API; gpt-tokenizer throws on it by
// default. An empty disallowed set makes it tokenise such text as plain characters, as the API does.
const plainTextOptions = { disallowedSpecial: new Set<string>() };

const loaded = new Map<EncodingName, Encoder>();
const loading = new Map<EncodingName, Promise<Encoder | undefined>>();

/**
 * Loads an encoding (once; concurrent callers share the load). tsup leaves the dynamic import of this external
 * package as `import()` in both builds of @tollgate/core, and Node runs `import()` from CommonJS too; gpt-tokenizer's
 * exports map serves `./encoding/*` to `import` and `require` (checked: both built files count tokens). Resolves
 * `undefined` when the package cannot be loaded; counting then falls back to the byte bound (the failure is
 * remembered, not retried).
 */
function loadEncoding(encoding: EncodingName): Promise<Encoder | undefined> {
  const ready = loaded.get(encoding);
  if (ready) return Promise.resolve(ready);
  let pending = loading.get(encoding);
  if (!pending) {
    pending = importEncoding(encoding).then(
      (module) => {
        module.setMergeCacheSize(MERGE_CACHE_ENTRIES);
        const encoder: Encoder = (text) => module.countTokens(text, plainTextOptions);
        loaded.set(encoding, encoder);
        return encoder;
      },
      () => undefined,
    );
    loading.set(encoding, pending);
  }
  return pending;
}

function importEncoding(encoding: EncodingName): Promise<EncodingModule> {
  // Literal specifiers, so bundlers of applications that use Tollgate can see both files.
  return encoding === "o200k_base"
    ? import("gpt-tokenizer/encoding/o200k_base")
    : import("gpt-tokenizer/encoding/cl100k_base");
}

/**
 * Loads the encodings now (default: o200k_base only), so that the first guarded call does not stall the event loop
 * for the few hundred milliseconds the load takes. Resolves `false` if an encoding could not be loaded.
 */
export async function preloadTokenizer(
  encodings: EncodingName | readonly EncodingName[] = "o200k_base",
): Promise<boolean> {
  const list: readonly EncodingName[] = typeof encodings === "string" ? [encodings] : encodings;
  const results = await Promise.all(list.map(loadEncoding));
  return results.every((encoder) => encoder !== undefined);
}

/** Whether `countTokensSync` can count with this encoding. */
export function isTokenizerLoaded(encoding: EncodingName = "o200k_base"): boolean {
  return loaded.has(encoding);
}

/**
 * Counts the tokens of `text` (or the sum over several texts). Loads the encoding on first use. Long texts are
 * counted in slices with yields to the event loop in between; above `maxTokenizeChars` in total, or if the
 * tokenizer cannot be loaded, returns the UTF-8 byte count (`method: "heuristic"`), an upper bound; past
 * `maxTokenizeMs`, the part not yet counted is bounded the same way.
 */
export async function countTokens(
  text: string | readonly string[],
  encoding: EncodingName = "o200k_base",
  options: TokenizerOptions = {},
): Promise<TokenCount> {
  const texts: readonly string[] = typeof text === "string" ? [text] : text;
  const maxChars = options.maxTokenizeChars ?? DEFAULT_MAX_TOKENIZE_CHARS;
  if (totalLength(texts) > maxChars) return { tokens: await utf8ByteLengthAsync(texts), method: "heuristic" };
  const encoder = loaded.get(encoding) ?? (await loadEncoding(encoding));
  if (!encoder) return { tokens: await utf8ByteLengthAsync(texts), method: "heuristic" };

  const sliceChars = options.sliceChars ?? DEFAULT_SLICE_CHARS;
  const yieldAfterMs = options.yieldAfterMs ?? DEFAULT_YIELD_AFTER_MS;
  const deadline = performance.now() + (options.maxTokenizeMs ?? DEFAULT_MAX_TOKENIZE_MS);
  let tokens = 0;
  let sliceStart = performance.now();
  for (const [index, item] of texts.entries()) {
    let counted = 0;
    for (const piece of textPieces(item, sliceChars)) {
      tokens += encoder(piece);
      counted += piece.length;
      const now = performance.now();
      if (now >= deadline) {
        // Over budget: bound what is left (tokens of a prefix + bytes of the rest ≥ tokens of the whole).
        const rest = [item.slice(counted), ...texts.slice(index + 1)];
        if (totalLength(rest) > 0) return { tokens: tokens + (await utf8ByteLengthAsync(rest)), method: "heuristic" };
      }
      if (now - sliceStart >= yieldAfterMs) {
        await yieldToEventLoop();
        sliceStart = performance.now();
      }
    }
  }
  return { tokens, method: "tokenizer" };
}

/**
 * `countTokens` without waiting: `undefined` until the encoding has been loaded (by `preloadTokenizer` or an earlier
 * `countTokens`). Blocks for the whole count, so keep it for short texts.
 */
export function countTokensSync(
  text: string | readonly string[],
  encoding: EncodingName = "o200k_base",
  options: TokenizerOptions = {},
): TokenCount | undefined {
  const encoder = loaded.get(encoding);
  if (!encoder) return undefined;
  const texts: readonly string[] = typeof text === "string" ? [text] : text;
  if (totalLength(texts) > (options.maxTokenizeChars ?? DEFAULT_MAX_TOKENIZE_CHARS)) {
    return { tokens: texts.reduce((sum, item) => sum + utf8ByteLength(item), 0), method: "heuristic" };
  }
  const sliceChars = options.sliceChars ?? DEFAULT_SLICE_CHARS;
  let tokens = 0;
  for (const item of texts) {
    for (const piece of textPieces(item, sliceChars)) tokens += encoder(piece);
  }
  return { tokens, method: "tokenizer" };
}

/**
 * The fallback bound: UTF-8 bytes. Every token of a byte-level BPE (o200k, cl100k, Claude's) or of SentencePiece with
 * byte fallback (Gemini) covers at least one byte, so the token count can never exceed the byte count, whatever the
 * text. Nothing cheaper is safe. Measured chars (here: bytes) per o200k token:
 *
 * | text | bytes/token |
 * |---|---|
 * | English prose | 4.7 |
 * | JSON (compact and pretty) / pnpm-lock.yaml | 2.4–2.7 / 2.1 |
 * | Japanese prose | 3.4 (1.1 chars/token) |
 * | hex / base64 / random printable ASCII | 1.75 / 1.46 / 1.34 |
 * | random CJK ideographs / Hangul / Cyrillic | 1.56 / 1.34 / 1.33 |
 * | digits separated by spaces ("1 2 3 …") | 1.00 |
 *
 * so `bytes / 2` would under-reserve base64 and random text by up to 2×, and `chars / 4` JSON by 40% and CJK by 4×.
 * The price is over-reservation of ordinary prose by ~4.7× (JSON ~2.5×) for prompts above `maxTokenizeChars`,
 * returned when the call settles; raise `maxTokenizeChars` to count such prompts exactly instead (sliced counting
 * does not block the event loop; it costs about 1 s of CPU per 2–3 MB of prose on this box).
 */
export function utf8ByteLength(text: string): number {
  let bytes = text.length;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x80) continue;
    // 2 bytes below U+0800; 3 for the rest of the BMP; a surrogate pair (4 bytes) adds 1 per code unit; a lone
    // surrogate is sent as U+FFFD (3 bytes).
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff && isLowSurrogate(text.charCodeAt(index + 1))) {
      bytes += 2;
      index++;
    } else bytes += 2;
  }
  return bytes;
}

const byteSliceChars = 1 << 18;

async function utf8ByteLengthAsync(texts: readonly string[]): Promise<number> {
  let bytes = 0;
  for (const text of texts) {
    if (text.length <= byteSliceChars) {
      bytes += utf8ByteLength(text);
      continue;
    }
    // ~1 ms per slice once optimised; yield between slices so that even a 100 MB prompt never stalls the loop.
    // A surrogate pair split across two slices counts 6 bytes instead of 4: an over-count, never an under-count.
    for (let start = 0; start < text.length; start += byteSliceChars) {
      bytes += utf8ByteLength(text.slice(start, start + byteSliceChars));
      await yieldToEventLoop();
    }
  }
  return bytes;
}

function totalLength(texts: readonly string[]): number {
  let length = 0;
  for (const text of texts) length += text.length;
  return length;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof setImmediate === "function") setImmediate(resolve);
    else setTimeout(resolve, 0);
  });
}

// A run of one pre-tokenizer class that is too long to count in one piece: letters with their combining marks
// (CJK, Thai, Hangul words have no spaces), other non-space symbols (emoji, "=====…"), or whitespace.
const longRunPattern = new RegExp(
  `[\\p{L}\\p{M}]{${MAX_RUN_CHARS},}|[^\\s\\p{L}\\p{N}]{${MAX_RUN_CHARS},}|\\s{${MAX_RUN_CHARS},}`,
  "gu",
);

/**
 * Splits `text` into pieces whose token counts add up to the count of the whole text (give or take a token or two
 * per forced cut):
 * 1. Slices of at most `sliceChars`, cut before a single space or tab that stands between two non-whitespace
 *    characters ("word word"). o200k and cl100k never put such a space in the same pre-token as the character
 *    before it (a space attaches to the word after it), so these cuts change nothing. Newlines are not cut at:
 *    punctuation takes the newlines after it (".\n"), and cl100k treats whitespace at the very end specially.
 *    A slice with no such point (minified code, CJK, base64) is cut at `sliceChars`, surrogate pairs kept whole.
 * 2. Within a slice, runs longer than `MAX_RUN_CHARS` are cut every `MAX_RUN_CHARS` characters (see there).
 */
export function* textPieces(text: string, sliceChars: number = DEFAULT_SLICE_CHARS): Generator<string> {
  const size = Math.max(MAX_RUN_CHARS * 2, Math.floor(sliceChars));
  let start = 0;
  while (start < text.length) {
    let end = start + size;
    if (end >= text.length) end = text.length;
    else end = sliceEnd(text, start, end);
    yield* cutLongRuns(text.slice(start, end));
    start = end;
  }
}

/** Where to end the slice that starts at `start`, at most at `limit` (< text.length). */
function sliceEnd(text: string, start: number, limit: number): number {
  // The cut goes before index `cut`: text[cut] is a space or tab, text[cut - 1] and text[cut + 1] are not whitespace.
  for (let cut = limit - 1; cut > start; cut--) {
    const code = text.charCodeAt(cut);
    if (
      (code === 0x20 || code === 0x09) &&
      !isWhitespace(text.charCodeAt(cut + 1)) &&
      !isWhitespace(text.charCodeAt(cut - 1))
    ) {
      return cut;
    }
  }
  return keepSurrogatePair(text, limit);
}

function* cutLongRuns(slice: string): Generator<string> {
  if (slice.length <= MAX_RUN_CHARS) {
    yield slice;
    return;
  }
  let start = 0;
  for (const match of slice.matchAll(longRunPattern)) {
    const runEnd = match.index + match[0].length;
    let cut = match.index + MAX_RUN_CHARS;
    // Everything before the run, together with its first MAX_RUN_CHARS characters, is one piece; then every
    // further MAX_RUN_CHARS characters of the run; the run's remainder joins the text after it.
    while (cut < runEnd) {
      cut = keepSurrogatePair(slice, cut);
      if (cut > start) yield slice.slice(start, cut);
      start = cut;
      cut += MAX_RUN_CHARS;
    }
  }
  if (start < slice.length) yield slice.slice(start);
}

/** `index`, moved one back if it would separate a surrogate pair. */
function keepSurrogatePair(text: string, index: number): number {
  return isLowSurrogate(text.charCodeAt(index)) && isHighSurrogate(text.charCodeAt(index - 1)) ? index - 1 : index;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** JavaScript's `\s`, which the o200k / cl100k split patterns use. */
function isWhitespace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  if (code < 0x85) return false;
  return (
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}
