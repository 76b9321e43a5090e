import type { ScanReport } from "./scan-report";

/**
 * `{ findings, scannedFiles, skippedFiles, allowed, elapsedMs }` plus the detail behind the counts (`skipped`,
 * `scannedBytes`). Counts are numbers so `jq '.findings | length'` and `jq .skippedFiles` read the same way.
 */
export function formatJsonReport(report: ScanReport): string {
  const document = {
    findings: report.findings,
    scannedFiles: report.scannedFiles,
    skippedFiles: report.skippedFiles.length,
    allowed: report.allowed,
    elapsedMs: Math.round(report.elapsedMs),
    scannedBytes: report.scannedBytes,
    skipped: report.skippedFiles,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}
