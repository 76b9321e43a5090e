/**
 * Pure SVG chart helpers for `tollgate report`: each returns markup meant to be inlined in an HTML page (no `xmlns`,
 * no external references; colours come from the page's CSS classes). Every text that reaches the markup goes through
 * `escapeHtml`.
 */

/** Text safe inside HTML/SVG element content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** One bar of the daily chart: `day` is `YYYY-MM-DD` in UTC. */
export interface DayBar {
  day: string;
  value: number;
}

export interface DailyBarChartOptions {
  bars: readonly DayBar[];
  /** Value of a horizontal dashed line across the chart (the daily budget), if any. */
  lineValue: number | undefined;
  lineLabel: string;
  /** How a value reads on the axis and in tooltips. */
  formatValue: (value: number) => string;
  /** The accessible name of the chart. */
  label: string;
  /** Days to flag above their bar (budget thresholds crossed), each with the lines of its tooltip. */
  markers?: readonly DayMarker[];
}

/** A flag above one day's bar: `day` is `YYYY-MM-DD` in UTC; `lines` say what happened that day. */
export interface DayMarker {
  day: string;
  lines: readonly string[];
}

const chartWidth = 960;
const chartHeight = 320;
const margin = { top: 16, right: 16, bottom: 40, left: 84 };

/**
 * A vertical bar per day with a y axis of round ticks and, when `lineValue` is set, a dashed line across. Bars over
 * the line get the `over` class. Each bar is `<rect class="bar…" data-day="YYYY-MM-DD">` with a `<title>` tooltip.
 * Each marker is a small triangle `<path class="alert-marker" data-day="YYYY-MM-DD">` pointing down at the top of its
 * day's bar, its lines in a `<title>`; markers for days outside the bars are left out.
 */
export function dailyBarChart(options: DailyBarChartOptions): string {
  const { bars, lineValue, formatValue } = options;
  const plotWidth = chartWidth - margin.left - margin.right;
  const plotHeight = chartHeight - margin.top - margin.bottom;
  const largest = Math.max(0, lineValue ?? 0, ...bars.map((bar) => bar.value));
  const ticks = niceTicks(largest);
  const top = ticks[ticks.length - 1] ?? 1;
  const yOf = (value: number) => margin.top + plotHeight - (Math.max(0, value) / top) * plotHeight;
  const slot = plotWidth / Math.max(1, bars.length);
  const barWidth = Math.max(1, slot * 0.72);
  const labelEvery = Math.max(1, Math.ceil(bars.length / 12));

  const parts: string[] = [];
  parts.push(
    `<svg class="chart" viewBox="0 0 ${chartWidth} ${chartHeight}" role="img" aria-label="${escapeHtml(options.label)}">`,
  );
  for (const tick of ticks) {
    const y = round(yOf(tick));
    parts.push(
      `<line class="grid" x1="${margin.left}" x2="${chartWidth - margin.right}" y1="${y}" y2="${y}"/>`,
      `<text class="axis" x="${margin.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeHtml(formatValue(tick))}</text>`,
    );
  }
  bars.forEach((bar, index) => {
    const x = round(margin.left + index * slot + (slot - barWidth) / 2);
    const y = round(yOf(bar.value));
    const height = round(margin.top + plotHeight - y);
    const over = lineValue !== undefined && bar.value > lineValue;
    parts.push(
      `<rect class="bar${over ? " over" : ""}" data-day="${escapeHtml(bar.day)}" x="${x}" y="${y}" width="${round(barWidth)}" height="${height}"><title>${escapeHtml(`${bar.day}: ${formatValue(bar.value)}`)}</title></rect>`,
    );
    if (index % labelEvery === 0) {
      parts.push(
        `<text class="axis" x="${round(margin.left + index * slot + slot / 2)}" y="${chartHeight - margin.bottom + 18}" text-anchor="middle">${escapeHtml(bar.day.slice(5))}</text>`,
      );
    }
  });
  const baseline = margin.top + plotHeight;
  parts.push(
    `<line class="baseline" x1="${margin.left}" x2="${chartWidth - margin.right}" y1="${baseline}" y2="${baseline}"/>`,
  );
  if (lineValue !== undefined) {
    const y = round(yOf(lineValue));
    parts.push(
      `<line class="budget-line" x1="${margin.left}" x2="${chartWidth - margin.right}" y1="${y}" y2="${y}"><title>${escapeHtml(options.lineLabel)}</title></line>`,
      `<text class="budget-label" x="${chartWidth - margin.right}" y="${y - 6}" text-anchor="end">${escapeHtml(options.lineLabel)}</text>`,
    );
  }
  // Markers go last, over the budget line and its label, just above their bar.
  const slotOfDay = new Map(bars.map((bar, index) => [bar.day, index]));
  for (const marker of options.markers ?? []) {
    const index = slotOfDay.get(marker.day);
    if (index === undefined || marker.lines.length === 0) continue;
    const centre = round(margin.left + index * slot + slot / 2);
    const half = round(Math.min(6, Math.max(3, slot * 0.3)));
    const height = round(1.6 * half);
    const top = round(Math.max(2, yOf(bars[index]!.value) - 3 - height));
    parts.push(
      `<path class="alert-marker" data-day="${escapeHtml(marker.day)}" d="M${round(centre - half)} ${top}h${round(2 * half)}l-${half} ${height}z"><title>${escapeHtml(`${marker.day}: ${marker.lines.join("; ")}`)}</title></path>`,
    );
  }
  parts.push("</svg>");
  return parts.join("");
}

/** A small horizontal bar filled to `fraction` (0…1), for a table cell. */
export function meterBar(fraction: number, label: string): string {
  const width = round(Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0)) * 100);
  return `<svg class="meter" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" aria-label="${escapeHtml(label)}"><rect class="meter-track" x="0" y="0" width="100" height="10"/><rect class="meter-fill" x="0" y="0" width="${width}" height="10"/></svg>`;
}

/** Round axis ticks from 0 to at least `largest`: 1, 2 or 5 times a power of ten apart, about four of them. */
export function niceTicks(largest: number): number[] {
  if (!(largest > 0) || !Number.isFinite(largest)) return [0, 1];
  const rough = largest / 4;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 5, 10].find((multiple) => multiple * magnitude >= rough) ?? 10) * magnitude;
  const ticks: number[] = [];
  for (let index = 0; ticks.length === 0 || ticks[ticks.length - 1]! < largest; index += 1) ticks.push(index * step);
  return ticks;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
