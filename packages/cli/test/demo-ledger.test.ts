import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatUsd } from "@tollgate/core";
import { describe, expect, it } from "vitest";
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

describe("a demo run's ledger, read back by tollgate usage and tollgate report", () => {
  it.each([
    ["PGlite", () => `pglite:${mkdtempSync(join(tmpdir(), "tollgate-demo-"))}`],
    ["Redis", () => `redis://127.0.0.1:6379?prefix=${encodeURIComponent(`tollgate-demo:${randomUUID()}`)}`],
  ])(
    "on %s shows the demo's admitted calls and spend",
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
    },
    60_000,
  );
});
