import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import {
  addUsageTotals,
  emptyUsageTotals,
  formatUsd,
  type UsageGroupKey,
  type UsageRow,
  type UsageTotals,
} from "@tollgate/core";
import { alertRow } from "./alert-rows";
import type { CommandIo } from "./command-io";
import { openStore, redactUrl } from "./open-store";
import { parseInstant } from "./parse-duration-ago";
import { type RankedRow, type ReportData, renderReportHtml } from "./report-html";

const dayMs = 86_400_000;
const topCount = 10;
/** Alerts listed at most: the newest of the range. */
const maxAlerts = 500;
const budgetPeriods = ["range", "month", "day"] as const;
type BudgetPeriod = (typeof budgetPeriods)[number];
/** An average Gregorian month, for spreading a monthly budget over days. */
const daysPerMonth = 365.25 / 12;

export const reportHelp = `Usage: tollgate report --store <url> --out <file.html> [--since 30d] [--until <date>]
                       [--budget <usd> [--budget-period range|month|day]] [--title <text>]

Writes one self-contained HTML page (inline CSS and SVG, no scripts, nothing fetched) from a store's ledger and
alert log: totals, spend per UTC day as bars (▼ on days a budget threshold was crossed), the top ${topCount} users
and models by spend, and the alerts of the range (the newest ${maxAlerts}).

--budget draws a daily budget line over the bars. --budget-period says what the amount covers:
  range  (default) the whole --since…--until range: the line is budget ÷ the range's length in days
  month  a month: the line is budget ÷ ${daysPerMonth.toFixed(4)} (an average month)
  day    one day: the line is the budget itself

Store URLs: redis://host:6379, postgres://…, pglite:./folder.`;

/** `tollgate report`: the ledger of a range as an HTML page with charts, written to `--out`. */
export async function runReport(argv: readonly string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      store: { type: "string" },
      out: { type: "string" },
      since: { type: "string", default: "30d" },
      until: { type: "string" },
      budget: { type: "string" },
      "budget-period": { type: "string", default: "range" },
      title: { type: "string" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    io.stdout(`${reportHelp}\n`);
    return 0;
  }
  if (values.store === undefined) return reportError(io, "--store is required");
  if (values.out === undefined) return reportError(io, "--out is required");
  const now = io.now();
  const since = parseInstant(values.since, now);
  const until = values.until === undefined ? now + 1 : parseInstant(values.until, now);
  if (since === undefined) return reportError(io, `--since: "${values.since}" is neither 7d/24h/30m nor a date`);
  if (until === undefined) return reportError(io, `--until: "${values.until}" is not a date`);
  if (until <= since) return reportError(io, "--until must come after --since");
  const period = values["budget-period"];
  if (!isBudgetPeriod(period)) return reportError(io, `--budget-period: "${period}" is not one of range, month, day`);
  const budgetUsd = values.budget === undefined ? undefined : Number(values.budget);
  if (budgetUsd !== undefined && !(Number.isFinite(budgetUsd) && budgetUsd > 0)) {
    return reportError(io, `--budget: "${values.budget}" is not a positive amount of dollars`);
  }
  const store = values.store;
  const out = values.out;

  const opened = await openStore(store).catch((error: unknown) => {
    io.stderr(`tollgate: cannot open ${redactUrl(store)}: ${error instanceof Error ? error.message : error}\n`);
    return undefined;
  });
  if (opened === undefined) return 1;
  let data: ReportData;
  try {
    const query = (groupBy: readonly UsageGroupKey[]) => opened.store.queryUsage({ since, until, groupBy });
    const [totalRows, dayRows, userRows, modelRows, alertEntries] = await Promise.all([
      query([]),
      query(["day"]),
      query(["user"]),
      query(["model"]),
      opened.store.listAlerts({ since, until, limit: maxAlerts + 1 }),
    ]);
    data = {
      title: values.title ?? "Tollgate spend report",
      since,
      until,
      generatedAt: now,
      totals: sumTotals(totalRows),
      days: everyDay(since, until, dayRows),
      budget: budgetUsd === undefined ? undefined : dailyBudget(budgetUsd, period, until - since),
      topUsers: ranked(userRows, "user"),
      topModels: ranked(modelRows, "model"),
      alerts: { rows: alertEntries.slice(0, maxAlerts).map(alertRow), truncated: alertEntries.length > maxAlerts },
    };
  } finally {
    await opened.close();
  }
  const html = renderReportHtml(data);
  try {
    await writeFile(out, html, "utf8");
  } catch (error) {
    io.stderr(`tollgate report: cannot write ${out}: ${error instanceof Error ? error.message : error}\n`);
    return 1;
  }
  io.stdout(
    `wrote ${out}: ${data.days.length} days, ${data.totals.requests.toLocaleString("en-US")} requests, ${formatUsd(data.totals.costNanoUsd)}, ${data.alerts.rows.length}${data.alerts.truncated ? "+" : ""} alerts\n`,
  );
  return 0;
}

function reportError(io: CommandIo, message: string): number {
  io.stderr(`tollgate report: ${message}\n\n${reportHelp}\n`);
  return 2;
}

function isBudgetPeriod(text: string): text is BudgetPeriod {
  return (budgetPeriods as readonly string[]).includes(text);
}

/** The daily budget line, in nano-USD, for a budget of `usd` per `period`; `rangeMs` is the length of the range. */
export function dailyBudget(
  usd: number,
  period: BudgetPeriod,
  rangeMs: number,
): { dailyNanoUsd: number; description: string } {
  const nanoUsd = usd * 1e9;
  if (period === "day") return { dailyNanoUsd: nanoUsd, description: `${formatUsd(nanoUsd)} per day` };
  if (period === "month") {
    const daily = nanoUsd / daysPerMonth;
    return { dailyNanoUsd: daily, description: `${formatUsd(nanoUsd)} per month = ${formatUsd(daily)} per day` };
  }
  const rangeDays = rangeMs / dayMs;
  const daily = nanoUsd / rangeDays;
  return {
    dailyNanoUsd: daily,
    description: `${formatUsd(nanoUsd)} over ${Number(rangeDays.toFixed(2))} days = ${formatUsd(daily)} per day`,
  };
}

/** Every UTC day from `since` to the last instant before `until`, with the spend of the rows that have one. */
export function everyDay(since: number, until: number, dayRows: readonly UsageRow[]): ReportData["days"] {
  const byDay = new Map<string, { costNanoUsd: number; requests: number }>();
  for (const row of dayRows) {
    const day = row.group.day;
    if (day === undefined) continue;
    const known = byDay.get(day) ?? { costNanoUsd: 0, requests: 0 };
    byDay.set(day, { costNanoUsd: known.costNanoUsd + row.costNanoUsd, requests: known.requests + row.requests });
  }
  const days = new Set<string>(byDay.keys());
  for (let dayStart = Math.floor(since / dayMs) * dayMs; dayStart < until; dayStart += dayMs) {
    days.add(new Date(dayStart).toISOString().slice(0, 10));
  }
  return [...days].sort().map((day) => ({ day, ...(byDay.get(day) ?? { costNanoUsd: 0, requests: 0 }) }));
}

function sumTotals(rows: readonly UsageRow[]): UsageTotals {
  const totals = emptyUsageTotals();
  for (const row of rows) addUsageTotals(totals, row);
  return totals;
}

function ranked(rows: readonly UsageRow[], key: "user" | "model"): ReportData["topUsers"] {
  const sorted: RankedRow[] = rows
    .map((row) => ({
      name: row.group[key],
      requests: row.requests,
      tokens: row.inputTokens + row.outputTokens,
      costNanoUsd: row.costNanoUsd,
    }))
    .sort((left, right) => right.costNanoUsd - left.costNanoUsd || right.requests - left.requests);
  return { rows: sorted.slice(0, topCount), total: sorted.length };
}
