// Result rows, the ratios between rows of the same run, and the combined table.
import type { Measurement, Mode } from "./harness";

export type RowMode = "sequential" | "64 in flight" | "—";

export type RatioMetric = "p50Us" | "opsPerSec" | "bytesPerSubject";

/** A ratio to another row of the same run, resolved once every section has run. */
export interface Comparison {
  against: string;
  /** Short name of the other row, as printed: `EVALSHA`, `raw SDK`, `Union×5`. */
  label: string;
  /** Default: p50 for sequential rows, throughput for concurrent ones. */
  metric?: RatioMetric;
}

export interface Ratio {
  against: string;
  label: string;
  metric: RatioMetric;
  value: number;
}

export interface Row {
  id: string;
  section: string;
  name: string;
  mode: RowMode;
  p50Us?: number;
  p99Us?: number;
  opsPerSec?: number;
  bytesPerSubject?: number;
  /** CPU of the benchmark process per call (`process.cpuUsage`), where measured. */
  clientCpuUsPerCall?: number;
  /** Server CPU per call (Redis `INFO commandstats`), where measured. */
  serverUsPerCall?: number;
  compare?: Comparison[];
  ratios?: Ratio[];
  /** Printed in the ratio column: what the row is waiting for, or why it is empty. */
  note?: string;
}

export function modeLabel(mode: Mode): RowMode {
  return mode === "sequential" ? "sequential" : "64 in flight";
}

export function measurementRow(
  row: Omit<Row, "mode" | "p50Us" | "p99Us" | "opsPerSec">,
  mode: Mode,
  measurement: Measurement,
): Row {
  return {
    ...row,
    mode: modeLabel(mode),
    p50Us: measurement.p50Us,
    p99Us: measurement.p99Us,
    opsPerSec: measurement.opsPerSec,
  };
}

/** Fills `ratios` from `compare`; a comparison whose other row is missing (a skipped section) is dropped. */
export function resolveRatios(rows: Row[]): void {
  const byId = new Map(rows.map((row) => [row.id, row]));
  for (const row of rows) {
    row.ratios = [];
    for (const comparison of row.compare ?? []) {
      const other = byId.get(comparison.against);
      const metric = comparison.metric ?? (row.mode === "64 in flight" ? "opsPerSec" : "p50Us");
      const mine = row[metric];
      const theirs = other?.[metric];
      if (mine === undefined || theirs === undefined || theirs === 0) continue;
      row.ratios.push({ against: comparison.against, label: comparison.label, metric, value: mine / theirs });
    }
  }
}

const metricNames: Record<RatioMetric, string> = { p50Us: "p50", opsPerSec: "ops/s", bytesPerSubject: "B/subject" };

export function formatRatio(ratio: Ratio): string {
  return `${ratio.value.toFixed(2)}× ${ratio.label} ${metricNames[ratio.metric]}`;
}

export function formatMicros(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return "";
  if (value < 10) return value.toFixed(2);
  if (value < 100) return value.toFixed(1);
  return Math.round(value).toLocaleString("en-US");
}

export function formatCount(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return "";
  return Math.round(value).toLocaleString("en-US");
}

/** The combined markdown table. */
export function formatTable(rows: readonly Row[]): string {
  const header = ["section", "case", "mode", "p50 µs", "p99 µs", "ops/s", "B/subject", "ratios (same run)"];
  const lines = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
  for (const row of rows) {
    const ratios = (row.ratios ?? []).map(formatRatio);
    if (row.note !== undefined) ratios.push(row.note);
    const cells = [
      row.section,
      row.name,
      row.mode,
      formatMicros(row.p50Us),
      formatMicros(row.p99Us),
      formatCount(row.opsPerSec),
      formatCount(row.bytesPerSubject),
      ratios.join("; "),
    ];
    lines.push(`| ${cells.map((cell) => cell.replaceAll("|", "\\|")).join(" | ")} |`);
  }
  return lines.join("\n");
}
