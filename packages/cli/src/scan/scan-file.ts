import { isAscii } from "node:buffer";
import { type FileHandle, open } from "node:fs/promises";
import { fingerprintKey } from "./key-fingerprint";
import { findKeyMatches, type KeyMatch } from "./key-patterns";
import { createLineIndex } from "./line-index";
import { redactKey } from "./redact";
import type { KeyFinding, SkipReason } from "./scan-report";
import { createSourceMapOrigins, type OriginalSource } from "./source-map-origin";

/** A key about to be reported, for the allow list to judge. The only place a finding still holds its key. */
export interface KeyCandidate {
  file: string;
  fingerprint: string;
  key: string;
}

export type AllowPredicate = (candidate: KeyCandidate) => boolean;

export interface TextScanResult {
  findings: KeyFinding[];
  /** Keys found but let through by the allow predicate. */
  allowed: number;
}

const neverAllowed: AllowPredicate = () => false;

/**
 * The keys in one file's text, as findings for `file` (the path to report). A `.map` file's findings also name
 * the original source; keys inside an inline base64 source map are reported at the `sourceMappingURL` comment,
 * since base64 hides them from the plain pass.
 */
export function scanText(text: string, file: string, isAllowed: AllowPredicate = neverAllowed): TextScanResult {
  const result: TextScanResult = { findings: [], allowed: 0 };
  const matches = findKeyMatches(text);
  const inlineMaps = findInlineSourceMaps(text);
  if (matches.length === 0 && inlineMaps.length === 0) return result;

  const locate = createLineIndex(text);
  const originOf = file.toLowerCase().endsWith(".map") ? createSourceMapOrigins(text) : undefined;
  for (const match of matches) {
    addFinding(result, match, file, locate(match.index), originOf?.(match.index), isAllowed);
  }
  for (const inlineMap of inlineMaps) {
    const mapOriginOf = createSourceMapOrigins(inlineMap.json);
    for (const match of findKeyMatches(inlineMap.json)) {
      addFinding(result, match, file, locate(inlineMap.index), mapOriginOf(match.index), isAllowed);
    }
  }
  return result;
}

function addFinding(
  result: TextScanResult,
  match: KeyMatch,
  file: string,
  position: { line: number; column: number },
  originalSource: OriginalSource | undefined,
  isAllowed: AllowPredicate,
): void {
  const fingerprint = fingerprintKey(match.key);
  if (isAllowed({ file, fingerprint, key: match.key })) {
    result.allowed++;
    return;
  }
  const finding: KeyFinding = {
    file,
    line: position.line,
    column: position.column,
    provider: match.detector.provider,
    kind: match.detector.kind,
    redacted: redactKey(match.key),
    fingerprint,
  };
  if (originalSource !== undefined) finding.originalSource = originalSource;
  result.findings.push(finding);
}

interface InlineSourceMap {
  /** Offset of the data URL in the scanned text: where its findings are reported. */
  index: number;
  json: string;
}

function findInlineSourceMaps(text: string): InlineSourceMap[] {
  // Most files have none; a plain substring check with an uncommon first letter runs at ~10 GB/s, the full
  // expression at ~2, and it would otherwise cost as much as the key scan itself.
  if (!text.includes("MappingURL=data:")) return [];
  const inlineMap = /sourceMappingURL=data:application\/json;(?:charset=[\w-]+;)?base64,([A-Za-z0-9+/=]+)/g;
  const maps: InlineSourceMap[] = [];
  for (let match = inlineMap.exec(text); match !== null; match = inlineMap.exec(text)) {
    const base64 = match[1] ?? "";
    maps.push({
      index: match.index + "sourceMappingURL=".length,
      json: Buffer.from(base64, "base64").toString("utf8"),
    });
  }
  return maps;
}

/** Text files have no NUL in their first 8 KB; git and grep make the same call. */
export const binarySniffBytes = 8192;

export interface ScanFileOptions {
  /** Larger files are skipped: a generated 2 GB archive is not where a key is read from, and it would fill memory. */
  maxFileBytes: number;
  isAllowed?: AllowPredicate;
}

export type FileScanOutcome =
  | { status: "scanned"; bytes: number; findings: KeyFinding[]; allowed: number }
  | { status: "skipped"; reason: SkipReason; detail: string };

/**
 * Reads and scans one file. The first 8 KB are read alone, so a binary costs one small read; a text file is then
 * read whole into one buffer and decoded as UTF-8 (columns match what an editor shows).
 */
export async function scanFile(absolutePath: string, file: string, options: ScanFileOptions): Promise<FileScanOutcome> {
  let handle: FileHandle;
  try {
    handle = await open(absolutePath, "r");
  } catch (error) {
    return { status: "skipped", reason: "unreadable", detail: describeError(error) };
  }
  let text: string;
  let bytes: number;
  try {
    const stats = await handle.stat();
    if (stats.size > options.maxFileBytes) {
      return {
        status: "skipped",
        reason: "too-large",
        detail: `${stats.size} bytes is over --max-file-bytes ${options.maxFileBytes}`,
      };
    }
    const buffer = Buffer.allocUnsafe(stats.size);
    bytes = await readInto(handle, buffer, 0, Math.min(binarySniffBytes, stats.size));
    if (buffer.subarray(0, bytes).includes(0)) return { status: "skipped", reason: "binary", detail: "NUL byte" };
    if (bytes === Math.min(binarySniffBytes, stats.size)) bytes = await readInto(handle, buffer, bytes, stats.size);
    const content = buffer.subarray(0, bytes);
    // Build output is nearly all ASCII, where latin1 decodes to the same string at 2.5 times UTF-8's speed.
    text = isAscii(content) ? content.toString("latin1") : content.toString("utf8");
  } catch (error) {
    return { status: "skipped", reason: "unreadable", detail: describeError(error) };
  } finally {
    await handle.close();
  }
  const { findings, allowed } = scanText(text, file, options.isAllowed);
  return { status: "scanned", bytes, findings, allowed };
}

/** Fills `buffer` from `from` up to `to`, returning where it stopped (earlier if the file shrank meanwhile). */
async function readInto(handle: FileHandle, buffer: Buffer, from: number, to: number): Promise<number> {
  let offset = from;
  while (offset < to) {
    const { bytesRead } = await handle.read(buffer, offset, to - offset, offset);
    if (bytesRead === 0) break;
    offset += bytesRead;
  }
  return offset;
}

function describeError(error: unknown): string {
  if (error instanceof Error && "code" in error && typeof error.code === "string") return error.code;
  return error instanceof Error ? error.message : String(error);
}
