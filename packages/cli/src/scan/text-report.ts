import type { KeyFinding, ScanReport } from "./scan-report";

/**
 * One line a finding — `path:line:column  provider  kind  redacted  fingerprint` — then a summary line. The leading
 * `path:line:column` is what terminals and editors turn into a link; the fingerprint is what an allow list takes.
 */
export function formatTextReport(report: ScanReport): string {
  const lines = report.findings.map(formatFindingLine);
  lines.push(formatSummary(report));
  return `${lines.join("\n")}\n`;
}

function formatFindingLine(finding: KeyFinding): string {
  const location = `${finding.file}:${finding.line}:${finding.column}`;
  const origin =
    finding.originalSource === undefined
      ? ""
      : `  (from ${finding.originalSource.file}:${finding.originalSource.line}:${finding.originalSource.column})`;
  return `${location}  ${finding.provider}  ${finding.kind}  ${finding.redacted}  ${finding.fingerprint}${origin}`;
}

function formatSummary(report: ScanReport): string {
  const filesWithKeys = new Set(report.findings.map((finding) => finding.file)).size;
  const found =
    report.findings.length === 0
      ? "no provider keys found"
      : `${plural(report.findings.length, "key")} found in ${plural(filesWithKeys, "file")}`;
  const details = [`${plural(report.scannedFiles, "file")} scanned`];
  if (report.allowed > 0) details.push(`${report.allowed} allowed`);
  if (report.skippedFiles.length > 0) details.push(`${report.skippedFiles.length} skipped (${skipBreakdown(report)})`);
  return `${found}; ${details.join(", ")} in ${Math.round(report.elapsedMs)} ms`;
}

function skipBreakdown(report: ScanReport): string {
  const counts = new Map<string, number>();
  for (const skipped of report.skippedFiles) counts.set(skipped.reason, (counts.get(skipped.reason) ?? 0) + 1);
  return [...counts].map(([reason, count]) => `${count} ${reason}`).join(", ");
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
