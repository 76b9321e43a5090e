import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AlertLogEntry, formatUsd } from "@tollgate/core";
import { describe, expect, it } from "vitest";
import { alertRow, formatAlertTime } from "../src/alert-rows";
import { runAlerts } from "../src/alerts-command";
import { runDemo } from "../src/demo";
import { openStore } from "../src/open-store";
import { runReport } from "../src/report-command";
import { escapeHtml } from "../src/svg-charts";
import { runUsage } from "../src/usage-command";

async function usageTotals(storeUrl: string) {
  let out = "";
  const code = await runUsage(["--store", storeUrl, "--group-by", "model", "--json"], {
    stdout: (text) => {
      out += text;
    },
    stderr: () => undefined,
    now: Date.now,
  });
  expect(code).toBe(0);
  const rows = JSON.parse(out) as { requests: number; costNanoUsd: number }[];
  return {
    requests: rows.reduce((sum, row) => sum + row.requests, 0),
    costNanoUsd: rows.reduce((sum, row) => sum + row.costNanoUsd, 0),
  };
}

const quietIo = { stdout: () => undefined, stderr: () => undefined, now: Date.now };

/** The store's alert log, read with the store's own `listAlerts`. */
async function storedAlerts(storeUrl: string): Promise<AlertLogEntry[]> {
  const opened = await openStore(storeUrl);
  try {
    return await opened.store.listAlerts();
  } finally {
    await opened.close();
  }
}

async function alertsJson(storeUrl: string): Promise<AlertLogEntry[]> {
  let out = "";
  const io = {
    ...quietIo,
    stdout: (text: string) => {
      out += text;
    },
  };
  expect(await runAlerts(["--store", storeUrl, "--json"], io)).toBe(0);
  return JSON.parse(out) as AlertLogEntry[];
}

describe("a demo run's ledger, read back by tollgate usage and tollgate report", () => {
  it.each([
    ["PGlite", () => `pglite:${mkdtempSync(join(tmpdir(), "tollgate-demo-"))}`],
    ["Redis", () => `redis://127.0.0.1:6379?prefix=${encodeURIComponent(`tollgate-demo:${randomUUID()}`)}`],
  ])(
    "on %s shows the demo's admitted calls, spend and alerts",
    async (_name, makeUrl) => {
      const url = makeUrl();
      const opened = await openStore(url);
      let summary: Awaited<ReturnType<typeof runDemo>>;
      try {
        summary = await runDemo(() => undefined, { store: opened.store });
      } finally {
        await opened.close();
      }
      const admitted = summary.results.reduce((sum, scene) => sum + scene.admitted, 0);
      const totals = await usageTotals(url);
      expect(totals.requests).toBe(admitted);
      expect(totals.costNanoUsd).toBe(summary.guardedNanoUsd);
      const out = join(mkdtempSync(join(tmpdir(), "tollgate-report-")), "report.html");
      expect(await runReport(["--store", url, "--out", out], quietIo)).toBe(0);
      const html = readFileSync(out, "utf8");
      expect(html).toContain(`<dd data-total="requests">${admitted}</dd>`);
      expect(html).toContain(`<dd data-total="spend">${escapeHtml(formatUsd(summary.guardedNanoUsd))}</dd>`);

      // The demo's alerts: its budget scene crosses 50/80/100 % of "monthly-budget", its agent loops once.
      const alerts = await storedAlerts(url);
      const monthly = alerts.flatMap((entry) =>
        entry.alert.type === "budget.threshold" && entry.alert.limitId === "monthly-budget" ? [entry.alert] : [],
      );
      expect(monthly.map((alert) => alert.fraction).sort()).toEqual([0.5, 0.8, 1]);
      expect(alerts.filter((entry) => entry.alert.type === "loop.detected")).toHaveLength(1);
      // The report lists exactly the log's alerts, newest first, each with its time, type and description.
      const listed = [...html.matchAll(/<tr data-alert-type="([^"]*)" data-time="(\d+)">/g)].map((match) => ({
        type: match[1],
        time: Number(match[2]),
      }));
      expect(listed).toEqual(alerts.map((entry) => ({ type: entry.alert.type, time: entry.time })));
      expect(html).toContain(`<dd data-total="alerts">${alerts.length}</dd>`);
      for (const row of alerts.map(alertRow)) {
        expect(html).toContain(`<td class="number">${escapeHtml(formatAlertTime(row.time))}</td>`);
        expect(html).toContain(`<td class="description">${escapeHtml(row.description)}</td>`);
      }
      // The budget crossings are marked on the spend chart, on the day they happened.
      const crossedOn = new Set(monthly.map((alert) => alert.time.slice(0, 10)));
      for (const day of crossedOn) expect(html).toContain(`<path class="alert-marker" data-day="${day}"`);
      // `tollgate alerts --json` prints the same entries.
      expect(await alertsJson(url)).toEqual(alerts);
    },
    60_000,
  );
});
