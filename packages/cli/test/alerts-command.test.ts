import { randomUUID } from "node:crypto";
import { type AlertLogEntry, alertLogEntry, type TollgateAlert } from "@tollgate/core";
import { createRedisStore } from "@tollgate/redis";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { runAlerts } from "../src/alerts-command";
import type { CommandIo } from "../src/command-io";

const dayMs = 86_400_000;
const redis = new Redis({ host: "127.0.0.1", port: 6379, enableOfflineQueue: false, lazyConnect: true });
const prefixes: string[] = [];

afterAll(async () => {
  for (const prefix of prefixes) await redis.unlink(`{${prefix}}alerts`);
  redis.disconnect();
});

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

/** A Redis store URL whose alert log holds the given alerts. */
async function storeWith(alerts: readonly TollgateAlert[]): Promise<string> {
  const prefix = `tollgate-cli-alerts:${randomUUID()}`;
  prefixes.push(prefix);
  const store = createRedisStore(redis, { prefix });
  for (const alert of alerts) await store.recordAlert(alertLogEntry(alert));
  return `redis://127.0.0.1:6379?prefix=${encodeURIComponent(prefix)}`;
}

describe("tollgate alerts", () => {
  const now = Date.UTC(2026, 10, 29, 12, 0, 0);
  const threshold: TollgateAlert = {
    type: "budget.threshold",
    time: new Date(now - 3_600_000),
    limitId: "monthly-budget",
    scope: "user",
    subject: "eve\u001b]0;pwned\u0007\rX",
    period: "2026-11",
    measure: "usd",
    used: 40,
    limit: 50,
    fraction: 0.8,
    shadow: false,
  };
  const loop: TollgateAlert = {
    type: "loop.detected",
    time: new Date(now - 60_000),
    subject: { user: "mallory\u001b[2J\nforged line" },
    model: "gpt-4o-mini",
    repeats: 10,
    windowMs: 60_000,
  };
  const lastMonth: TollgateAlert = { ...threshold, time: new Date(now - 20 * dayMs), fraction: 0.5 };

  it("prints the alerts of the range newest first, one line each, with control characters escaped", async () => {
    const url = await storeWith([threshold, loop, lastMonth]);
    const io = captureIo(now);
    expect(await runAlerts(["--store", url, "--since", "7d"], io)).toBe(0);
    expect(io.err).toBe("");
    expect(io.out).toBe(
      [
        `2026-11-29 11:59:00  loop.detected     loop stopped — {"user":"mallory\\u001b[2J\\nforged line"} sent the same gpt-4o-mini request 10 times within 60000 ms`,
        `2026-11-29 11:00:00  budget.threshold  80% of "monthly-budget" used by user eve\\u001b]0;pwned\\u0007\\u000dX in 2026-11 ($40.00 of $50.00)`,
        "",
      ].join("\n"),
    );
    const controls = [...io.out].filter((character) => character !== "\n" && character.charCodeAt(0) < 0x20);
    expect(controls).toEqual([]);
  });

  it("--json prints the log's entries as stored, and --limit keeps the newest", async () => {
    const url = await storeWith([threshold, loop, lastMonth]);
    const io = captureIo(now);
    expect(await runAlerts(["--store", url, "--since", "30d", "--json"], io)).toBe(0);
    const entries = JSON.parse(io.out) as AlertLogEntry[];
    expect(entries).toEqual([loop, threshold, lastMonth].map(alertLogEntry));
    const limited = captureIo(now);
    expect(await runAlerts(["--store", url, "--since", "30d", "--limit", "1", "--json"], limited)).toBe(0);
    expect(JSON.parse(limited.out)).toEqual([alertLogEntry(loop)]);
  });

  it("says so when the range has no alerts, and refuses bad arguments", async () => {
    const url = await storeWith([lastMonth]);
    const empty = captureIo(now);
    expect(await runAlerts(["--store", url, "--since", "24h"], empty)).toBe(0);
    expect(empty.out).toBe("no alerts in this range\n");
    const missing = captureIo(now);
    expect(await runAlerts([], missing)).toBe(2);
    expect(missing.err).toContain("--store is required");
    const badLimit = captureIo(now);
    expect(await runAlerts(["--store", url, "--limit", "0"], badLimit)).toBe(2);
    expect(badLimit.err).toContain("--limit");
    const badSince = captureIo(now);
    expect(await runAlerts(["--store", url, "--since", "soon"], badSince)).toBe(2);
    expect(badSince.err).toContain('"soon"');
  });
});
