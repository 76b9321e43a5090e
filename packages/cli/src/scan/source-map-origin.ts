import { createLineIndex } from "./line-index";

export interface OriginalSource {
  /** As the map names it, `sourceRoot` included: `webpack://app/./src/config.ts`. */
  file: string;
  line: number;
  column: number;
}

interface StringSpan {
  /** Offset of the first character after the opening quote, in the map's raw text. */
  start: number;
  /** Offset of the closing quote. */
  end: number;
  sourceIndex: number;
}

/**
 * For a source map's raw text, a lookup from an offset inside `sourcesContent` to the original file, line and
 * column it came from. The scan reports positions in the `.map` file itself (that is the file that leaks); this
 * names the source the key was written in, so it can be removed there. Returns undefined for offsets outside
 * `sourcesContent` and for text that is not a source map (index maps with `sections` are not followed).
 */
export function createSourceMapOrigins(text: string): (offset: number) => OriginalSource | undefined {
  const sources = readSources(text);
  if (sources === undefined) return () => undefined;
  const spans = findSourcesContentSpans(text);

  return (offset) => {
    const span = spans.find((candidate) => candidate.start <= offset && offset < candidate.end);
    if (span === undefined) return undefined;
    const file = sources[span.sourceIndex];
    if (file === undefined) return undefined;
    let decodedPrefix: string;
    try {
      // Decoding the JSON string up to the key gives the original text before it; escapes before a key are whole.
      decodedPrefix = JSON.parse(`"${text.slice(span.start, offset)}"`) as string;
    } catch {
      return undefined;
    }
    const position = createLineIndex(decodedPrefix)(decodedPrefix.length);
    return { file, line: position.line, column: position.column };
  };
}

function readSources(text: string): string[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null || !("sources" in parsed)) return undefined;
  const { sources } = parsed;
  if (!Array.isArray(sources)) return undefined;
  const sourceRoot = "sourceRoot" in parsed && typeof parsed.sourceRoot === "string" ? parsed.sourceRoot : "";
  const root = sourceRoot === "" || sourceRoot.endsWith("/") ? sourceRoot : `${sourceRoot}/`;
  return sources.map((source) => (typeof source === "string" ? `${root}${source}` : ""));
}

/**
 * The raw spans of the `sourcesContent` strings. `JSON.parse` loses offsets, so the array is walked by hand. The
 * literal `"sourcesContent"` cannot occur inside a JSON string (its quotes would be escaped there), so its first
 * occurrence followed by `:` and `[` is the property.
 */
function findSourcesContentSpans(text: string): StringSpan[] {
  const property = /"sourcesContent"\s*:\s*\[/g;
  const found = property.exec(text);
  if (found === null) return [];
  const spans: StringSpan[] = [];
  let position = found.index + found[0].length;
  for (let sourceIndex = 0; position < text.length; sourceIndex++) {
    position = skipWhitespace(text, position);
    if (text[position] === '"') {
      const end = closingQuote(text, position + 1);
      if (end === -1) break;
      spans.push({ start: position + 1, end, sourceIndex });
      position = end + 1;
    } else if (text.startsWith("null", position)) {
      position += 4;
    } else {
      break;
    }
    position = skipWhitespace(text, position);
    if (text[position] !== ",") break;
    position++;
  }
  return spans;
}

function skipWhitespace(text: string, position: number): number {
  let index = position;
  while (index < text.length && " \t\r\n".includes(text[index] ?? "")) index++;
  return index;
}

/** The offset of the quote ending a JSON string whose content starts at `position`, or -1. */
function closingQuote(text: string, position: number): number {
  let index = position;
  for (;;) {
    const quote = text.indexOf('"', index);
    if (quote === -1) return -1;
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return quote;
    index = quote + 1;
  }
}
