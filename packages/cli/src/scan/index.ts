export type { AllowEntry, AllowList } from "./allow-list";
export {
  createAllowList,
  defaultAllowListFileName,
  globToRegExp,
  parseAllowList,
  readAllowListFile,
} from "./allow-list";
export { formatJsonReport } from "./json-report";
export { fingerprintKey } from "./key-fingerprint";
export type { KeyDetector, KeyMatch, ProviderName } from "./key-patterns";
export { findKeyMatches, isPlaceholderKey, keyDetectors } from "./key-patterns";
export type { TextPosition } from "./line-index";
export { createLineIndex } from "./line-index";
export { mapWithConcurrency } from "./map-with-concurrency";
export type { ProgressLine, ProgressLineOptions } from "./progress-line";
export { createProgressLine } from "./progress-line";
export { redactKey, redactKeysInText } from "./redact";
export type { ScanIo } from "./run-scan";
export { progressFileThreshold, runScan, scanConcurrency } from "./run-scan";
export type { SarifOptions } from "./sarif-report";
export { formatSarifReport, sarifRuleId, sarifSchemaUri, sarifToolName } from "./sarif-report";
export type { ParsedScanArguments, ScanFormat, ScanOptions } from "./scan-arguments";
export { defaultMaxFileBytes, parseScanArguments, scanUsage } from "./scan-arguments";
export type { AllowPredicate, FileScanOutcome, KeyCandidate, ScanFileOptions, TextScanResult } from "./scan-file";
export { binarySniffBytes, scanFile, scanText } from "./scan-file";
export type { KeyFinding, ScanReport, SkippedFile, SkipReason } from "./scan-report";
export type { OriginalSource } from "./source-map-origin";
export { createSourceMapOrigins } from "./source-map-origin";
export { formatTextReport } from "./text-report";
export type { WalkedFile, WalkOptions } from "./walk-files";
export { toDisplayPath, walkFiles } from "./walk-files";
