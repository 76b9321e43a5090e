import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { alertLogEntry, formatUsd, guardedClient } from "@tollgate/core";
import { createRedisStore } from "@tollgate/redis";
import { startFakeProviders } from "@tollgate/testing";
import { Redis } from "ioredis";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import type { CommandIo } from "../src/command-io";
import { runReport } from "../src/report-command";
import { escapeHtml } from "../src/svg-charts";

const dayMs = 86_400_000;
const hostileUser = "<script>alert(1)</script>";

function captureIo(now: number): CommandIo & { out: string; err: string } {
  const io = {
    out: "",
    err: "",
    stdout: (text: string) => {
      io.out += text;
    },
    stderr: (text: string) => {
      io.err += text;
    },
    now: () => now,
  };
  return io;
}

describe("tollgate report on a Redis store", () => {
  it("writes one self-contained HTML page whose totals, days, users and models match the guard's ledger", async () => {
    const prefix = `tollgate-cli-report:${randomUUID()}`;
    const storeUrl = `redis://127.0.0.1:6379?prefix=${encodeURIComponent(prefix)}`;
    const fake = await startFakeProviders();
    const redis = new Redis({ host: "127.0.0.1", port: 6379, enableOfflineQueue: false });
    const folder = await mkdtemp(join(tmpdir(), "tollgate-report-"));
    try {
      const guard = guardedClient({
        providers: { openai: new OpenAI({ apiKey: "sk-test", baseURL: fake.openaiBaseURL, maxRetries: 0 }) },
        store: createRedisStore(redis, { prefix }),
      });
      const calls = [
        { user: "alice", model: "gpt-4o-mini" },
        { user: "alice", model: "gpt-4o" },
        { user: "bob", model: "gpt-4o-mini" },
        { user: hostileUser, model: "gpt-4o-mini" },
      ];
      for (const call of calls) {
        await guard.for({ user: call.user }).openai.chat.completions.create({
          model: call.model,
          max_tokens: 8,
          messages: [{ role: "user", content: `${call.user} ${randomUUID()}` }],
        });
      }
      await guard.close();
      const now = Date.now();
      const [expected] = await guard.usage({ since: now - 30 * dayMs, until: now + 1 });
      const expectedDays = await guard.usage({ since: now - 30 * dayMs, until: now + 1, groupBy: ["day"] });
      expect(expected?.requests).toBe(calls.length);

      const file = join(folder, "report.html");
      const io = captureIo(now);
      expect(await runReport(["--store", storeUrl, "--out", file, "--budget", "1"], io)).toBe(0);
      expect(io.err).toBe("");
      expect(existsSync(file)).toBe(true);
      const html = await readFile(file, "utf8");

      // Self-contained: no scripts at all, nothing fetched.
      expect(html.toLowerCase()).not.toContain("<script");
      expect(html).not.toMatch(/https?:\/\//);
      expect(html).not.toMatch(/\b(src|href)=/i);
      expect(html).not.toMatch(/url\(|@import/);

      // Totals equal the guard's.
      expect(html).toContain(`<dd data-total="requests">${expected?.requests}</dd>`);
      expect(html).toContain(
        `<dd data-total="spend">${escapeHtml(formatUsd(expected?.costNanoUsd ?? Number.NaN))}</dd>`,
      );

      // Every user and model appears, escaped; the hostile id is text.
      expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
      for (const name of ["alice", "bob", "gpt-4o-mini", "gpt-4o"])
        expect(html).toContain(`<td class="name">${name}</td>`);

      // One bar per UTC day of the range, with each day's spend in its tooltip, and the budget line.
      const barDays = [...html.matchAll(/<rect class="bar[^"]*" data-day="(\d{4}-\d{2}-\d{2})"/g)].map(
        (match) => match[1],
      );
      const rangeDays: string[] = [];
      for (let day = Math.floor((now - 30 * dayMs) / dayMs) * dayMs; day <= now; day += dayMs) {
        rangeDays.push(new Date(day).toISOString().slice(0, 10));
      }
      expect(barDays).toEqual(rangeDays);
      for (const row of expectedDays) {
        expect(html).toContain(`data-day="${row.group.day}"`);
        expect(html).toContain(`<title>${row.group.day}: ${formatUsd(row.costNanoUsd)}</title>`);
      }
      expect(html).toMatch(/<line class="budget-line"/);
      expect(html).toContain(`budget ${formatUsd(1e9 / ((30 * dayMs + 1) / dayMs))}/day`);

      // Arguments: both --store and --out are required, and a bad budget is refused.
      const missing = captureIo(now);
      expect(await runReport(["--store", storeUrl], missing)).toBe(2);
      expect(missing.err).toContain("--out is required");
      const badBudget = captureIo(now);
      expect(await runReport(["--store", storeUrl, "--out", file, "--budget", "lots"], badBudget)).toBe(2);
      expect(badBudget.err).toContain('"lots"');
    } finally {
      redis.disconnect();
      await fake.close();
      await rm(folder, { recursive: true, force: true });
    }
  });

  it("lists the alerts of the range, newest first and escaped, and marks budget crossings on the chart", async () => {
    const prefix = `tollgate-cli-report:${randomUUID()}`;
    const storeUrl = `redis://127.0.0.1:6379?prefix=${encodeURIComponent(prefix)}`;
    const fake = await startFakeProviders();
    const redis = new Redis({ host: "127.0.0.1", port: 6379, enableOfflineQueue: false });
    const folder = await mkdtemp(join(tmpdir(), "tollgate-report-"));
    try {
      const store = createRedisStore(redis, { prefix });
      const guard = guardedClient({
        providers: { openai: new OpenAI({ apiKey: "sk-test", baseURL: fake.openaiBaseURL, maxRetries: 0 }) },
        store,
        limits: [{ id: "user-daily-usd", scope: "user", usd: 0.015, period: "day" }],
        prices: { "gpt-4o-mini": { input: 1_000, output: 1_000 } }, // $0.001 per token
        alerts: { sinks: [() => undefined], projected: false },
      });
      // $0.01 per call: the first crosses 50 %, the second does not fit and exhausts the budget (the 100 % alert).
      fake.addRule({ usage: { inputTokens: 6, outputTokens: 4 } });
      for (let call = 0; call < 2; call++) {
        await guard
          .for({ user: hostileUser })
          .openai.chat.completions.create({
            model: "gpt-4o-mini",
            max_tokens: 4,
            messages: [{ role: "user", content: `call ${call}` }],
          })
          .catch(() => undefined);
        await guard.close();
      }
      await guard.close();
      const now = Date.now();
      // An alert from before the range: not in the report.
      const old = alertLogEntry({
        type: "loop.detected",
        time: new Date(now - 40 * dayMs),
        subject: { user: "old-loop" },
        model: "gpt-4o-mini",
        repeats: 10,
        windowMs: 60_000,
      });
      await store.recordAlert(old);
      const inRange = await store.listAlerts({ since: now - 30 * dayMs, until: now + 1 });
      expect(inRange.map((entry) => entry.alert)).toMatchObject([
        { type: "budget.threshold", fraction: 1 },
        { type: "budget.threshold", fraction: 0.5 },
      ]);

      const file = join(folder, "report.html");
      expect(await runReport(["--store", storeUrl, "--out", file], captureIo(now))).toBe(0);
      const html = await readFile(file, "utf8");
      expect(html.toLowerCase()).not.toContain("<script");
      const rows = [...html.matchAll(/<tr data-alert-type="([^"]*)" data-time="(\d+)">(.*?)<\/tr>/g)];
      expect(rows.map((match) => Number(match[2]))).toEqual(inRange.map((entry) => entry.time));
      expect(rows.map((match) => match[3]?.match(/<td>(\d+)% of \$0\.0150<\/td>/)?.[1])).toEqual(["100", "50"]);
      for (const match of rows) {
        expect(match[1]).toBe("budget.threshold");
        expect(match[3]).toContain(`<td class="who">user ${escapeHtml(hostileUser)}</td>`);
        expect(match[3]).toContain(`<td class="about">user-daily-usd</td>`);
      }
      expect(html).not.toContain("old-loop");
      const today = new Date(inRange[0]!.time).toISOString().slice(0, 10);
      expect(html).toMatch(
        new RegExp(`<path class="alert-marker" data-day="${today}"[^>]*><title>${today}: user-daily-usd: `),
      );
      expect(html.match(/class="alert-marker"/g)).toHaveLength(1);
    } finally {
      redis.disconnect();
      await fake.close();
      await rm(folder, { recursive: true, force: true });
    }
  });
});
