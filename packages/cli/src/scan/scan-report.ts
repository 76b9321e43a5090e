import type { ProviderName } from "./key-patterns";
import type { OriginalSource } from "./source-map-origin";

/** One leaked key. Holds no part of the key but its redacted form and its fingerprint. */
export interface KeyFinding {
  /** Relative to the working directory, forward slashes: `dist/assets/index-4f2a.js`. */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based, UTF-16 code units. */
  column: number;
  provider: ProviderName;
  kind: string;
  /** `sk-proj-…a1B2`. */
  redacted: string;
  /** First 16 hex digits of the key's SHA-256: what an allow list names. */
  fingerprint: string;
  /** For keys inside a source map's `sourcesContent`: where the key was written. */
  originalSource?: OriginalSource;
}

export type SkipReason = "binary" | "too-large" | "unreadable";

export interface SkippedFile {
  file: string;
  reason: SkipReason;
}

export interface ScanReport {
  findings: KeyFinding[];
  scannedFiles: number;
  scannedBytes: number;
  skippedFiles: SkippedFile[];
  /** Findings an allow list or `--allow-pattern` let through. */
  allowed: number;
  elapsedMs: number;
}
