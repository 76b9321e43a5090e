import { formatUsd, type UsageTotals } from "@tollgate/core";
import { type AlertRow, formatAlertTime } from "./alert-rows";
import { type DayMarker, dailyBarChart, escapeHtml, meterBar } from "./svg-charts";

/** One row of a "top" table: who or what, and what it cost. `name` is `undefined` for calls without that value. */
export interface RankedRow {
  name: string | undefined;
  requests: number;
  tokens: number;
  costNanoUsd: number;
}

export interface ReportData {
  title: string;
  /** Epoch ms, inclusive. */
  since: number;
  /** Epoch ms, exclusive. */
  until: number;
  generatedAt: number;
  totals: UsageTotals;
  /** Every UTC day of the range, oldest first, including days without spend. */
  days: readonly { day: string; costNanoUsd: number; requests: number }[];
  /** The daily budget line in nano-USD and how it was derived, or `undefined` without `--budget`. */
  budget: { dailyNanoUsd: number; description: string } | undefined;
  topUsers: { rows: readonly RankedRow[]; total: number };
  topModels: { rows: readonly RankedRow[]; total: number };
  /** The alerts of the range from the store's alert log, newest first; `truncated` when the log held more. */
  alerts: { rows: readonly AlertRow[]; truncated: boolean };
}

/** The whole report as one self-contained HTML page: inline CSS and SVG, no scripts, no external resources. */
export function renderReportHtml(data: ReportData): string {
  const title = escapeHtml(data.title);
  const totals = data.totals;
  const overBudgetDays =
    data.budget === undefined ? 0 : data.days.filter((day) => day.costNanoUsd > data.budget!.dailyNanoUsd).length;
  const chart = dailyBarChart({
    bars: data.days.map((day) => ({ day: day.day, value: day.costNanoUsd })),
    lineValue: data.budget?.dailyNanoUsd,
    lineLabel: data.budget === undefined ? "" : `budget ${formatUsd(data.budget.dailyNanoUsd)}/day`,
    formatValue: formatUsd,
    label: "Spend per UTC day",
    markers: thresholdMarkers(data.alerts.rows),
  });
  const budgetSummary =
    data.budget === undefined
      ? ""
      : `<p class="note">Budget line: ${escapeHtml(data.budget.description)}. ${overBudgetDays} of ${data.days.length} days over it.</p>`;

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${title}</title>
<style>${css}</style>
</head>
<body>
<header>
<h1>${title}</h1>
<p class="range">${escapeHtml(formatInstant(data.since))} → ${escapeHtml(formatInstant(data.until))} (UTC) · generated ${escapeHtml(formatInstant(data.generatedAt))}</p>
<dl class="totals">
<div><dt>Requests</dt><dd data-total="requests">${formatCount(totals.requests)}</dd></div>
<div><dt>Tokens</dt><dd data-total="tokens">${formatCount(totals.inputTokens + totals.outputTokens)}</dd><dd class="detail">${formatCount(totals.inputTokens)} in · ${formatCount(totals.outputTokens)} out</dd></div>
<div><dt>Spend</dt><dd data-total="spend">${escapeHtml(formatUsd(totals.costNanoUsd))}</dd></div>
${totals.errorRequests > 0 ? `<div><dt>Errors</dt><dd data-total="errors">${formatCount(totals.errorRequests)}</dd></div>` : ""}
<div><dt>Alerts</dt><dd data-total="alerts">${formatCount(data.alerts.rows.length)}${data.alerts.truncated ? "+" : ""}</dd></div>
</dl>
</header>
<main>
<section>
<h2>Spend per day</h2>
${chart}
${budgetSummary}
${data.alerts.rows.some((row) => row.budgetThreshold) ? `<p class="note"><span class="marker-key">▼</span> marks a day on which a budget threshold was crossed (see Alerts).</p>` : ""}
</section>
<section>
<h2>Top users</h2>
${rankedTable("User", "no user", data.topUsers, totals.costNanoUsd)}
</section>
<section>
<h2>Top models</h2>
${rankedTable("Model", "no model", data.topModels, totals.costNanoUsd)}
</section>
<section>
<h2>Alerts</h2>
${alertsTable(data.alerts)}
</section>
</main>
<footer>Tollgate usage report. Days are UTC; amounts are the ledger's, estimates included.</footer>
</body>
</html>
`;
}

function rankedTable(
  heading: string,
  missing: string,
  ranked: ReportData["topUsers"],
  totalCostNanoUsd: number,
): string {
  if (ranked.rows.length === 0) return `<p class="note">No calls in this range.</p>`;
  const largest = Math.max(...ranked.rows.map((row) => row.costNanoUsd));
  const body = ranked.rows
    .map((row) => {
      const name = row.name === undefined ? `<span class="missing">${missing}</span>` : escapeHtml(row.name);
      const share = totalCostNanoUsd > 0 ? row.costNanoUsd / totalCostNanoUsd : 0;
      return `<tr><td class="name">${name}</td><td class="number">${formatCount(row.requests)}</td><td class="number">${formatCount(row.tokens)}</td><td class="number">${escapeHtml(formatUsd(row.costNanoUsd))}</td><td class="number">${(share * 100).toFixed(1)}%</td><td class="bar-cell">${meterBar(largest > 0 ? row.costNanoUsd / largest : 0, `${(share * 100).toFixed(1)}% of spend`)}</td></tr>`;
    })
    .join("\n");
  const more =
    ranked.total > ranked.rows.length
      ? `<p class="note">Top ${ranked.rows.length} of ${ranked.total}, by spend.</p>`
      : "";
  return `<table>
<thead><tr><th>${heading}</th><th class="number">Requests</th><th class="number">Tokens</th><th class="number">Spend</th><th class="number">Share</th><th></th></tr></thead>
<tbody>
${body}
</tbody>
</table>${more}`;
}

/** The alerts as delivered: every text comes from the store (subject values are user input) and is escaped. */
function alertsTable(alerts: ReportData["alerts"]): string {
  if (alerts.rows.length === 0) return `<p class="note">No alerts in this range.</p>`;
  const body = alerts.rows
    .map(
      (row) =>
        `<tr data-alert-type="${escapeHtml(row.type)}" data-time="${row.time}"><td class="number">${escapeHtml(formatAlertTime(row.time))}</td><td>${escapeHtml(row.type)}</td><td class="about">${escapeHtml(row.about)}</td><td class="who">${escapeHtml(row.who)}</td><td>${escapeHtml(row.level)}</td><td class="description">${escapeHtml(row.description)}</td></tr>`,
    )
    .join("\n");
  const more = alerts.truncated ? `<p class="note">The newest ${alerts.rows.length} alerts of the range.</p>` : "";
  return `<table class="alerts">
<thead><tr><th class="number">Time (UTC)</th><th>Alert</th><th>Limit / model</th><th>Who</th><th>Level</th><th>What happened</th></tr></thead>
<tbody>
${body}
</tbody>
</table>${more}`;
}

/** One chart marker per UTC day on which budget thresholds were crossed, oldest alert first in its tooltip. */
function thresholdMarkers(rows: readonly AlertRow[]): DayMarker[] {
  const byDay = new Map<string, string[]>();
  for (const row of [...rows].reverse()) {
    if (!row.budgetThreshold) continue;
    const day = new Date(row.time).toISOString().slice(0, 10);
    const lines = byDay.get(day) ?? [];
    lines.push(`${row.about}: ${row.level}, ${row.who}`);
    byDay.set(day, lines);
  }
  return [...byDay].map(([day, lines]) => ({ day, lines }));
}

function formatCount(value: number): string {
  return value.toLocaleString("en-US");
}

function formatInstant(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 16).replace("T", " ");
}

const css = `
:root { color-scheme: light dark; --ink: #1f2328; --muted: #656d76; --line: #d0d7de; --bar: #3b82f6; --over: #dc2626;
  --budget: #d97706; --track: #eef1f4; --paper: #ffffff; }
@media (prefers-color-scheme: dark) { :root { --ink: #e6edf3; --muted: #8d96a0; --line: #30363d; --bar: #60a5fa;
  --over: #f87171; --budget: #fbbf24; --track: #21262d; --paper: #0d1117; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1040px; padding: 24px; background: var(--paper); color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { margin: 0 0 4px; font-size: 26px; }
h2 { margin: 32px 0 12px; font-size: 18px; }
.range, .note, footer, .detail { color: var(--muted); font-size: 13px; }
.totals { display: flex; flex-wrap: wrap; gap: 16px; margin: 16px 0 0; }
.totals div { flex: 1 1 160px; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
.totals dt { color: var(--muted); font-size: 13px; }
.totals dd { margin: 0; font-size: 24px; font-weight: 600; font-variant-numeric: tabular-nums; }
.totals dd.detail { font-size: 13px; font-weight: 400; }
.chart { width: 100%; height: auto; display: block; }
.chart .grid { stroke: var(--line); stroke-width: 1; }
.chart .baseline { stroke: var(--muted); stroke-width: 1; }
.chart .axis { fill: var(--muted); font-size: 12px; }
.chart .bar { fill: var(--bar); }
.chart .bar.over { fill: var(--over); }
.chart .bar:hover { opacity: 0.8; }
.chart .budget-line { stroke: var(--budget); stroke-width: 2; stroke-dasharray: 6 4; }
.chart .budget-label { fill: var(--budget); font-size: 12px; font-weight: 600; paint-order: stroke;
  stroke: var(--paper); stroke-width: 4px; stroke-linejoin: round; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 8px; border-bottom: 1px solid var(--line); text-align: left; }
th { color: var(--muted); font-weight: 500; font-size: 13px; }
.number { text-align: right; white-space: nowrap; }
.name { word-break: break-all; }
.missing { color: var(--muted); font-style: italic; }
.bar-cell { width: 30%; }
.meter { width: 100%; height: 12px; display: block; }
.meter-track { fill: var(--track); }
.meter-fill { fill: var(--bar); }
.chart .alert-marker { fill: var(--over); }
.marker-key { color: var(--over); }
table.alerts td { vertical-align: top; font-size: 13px; overflow-wrap: break-word; }
footer { margin-top: 40px; }
`;
