import { randomUUID } from "node:crypto";
import { guardedClient } from "@tollgate/core";
import { createRedisStore } from "@tollgate/redis";
import { startFakeProviders } from "@tollgate/testing";
import { Redis } from "ioredis";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { runBlockCommand } from "../src/block-command";
import type { CommandIo } from "../src/command-io";
import { runUsage } from "../src/usage-command";

function captureIo(): CommandIo & { out: string; err: string } {
  const io = {
    out: "",
    err: "",
    stdout: (text: string) => {
      io.out += text;
    },
    stderr: (text: string) => {
      io.err += text;
    },
    now: Date.now,
  };
  return io;
}

describe("tollgate usage and the kill switch on a Redis store", () => {
  it("shows the same totals as the guard's ledger, and blocks for every guard on the store", async () => {
    const prefix = `tollgate-cli:${randomUUID()}`;
    const storeUrl = `redis://127.0.0.1:6379?prefix=${encodeURIComponent(prefix)}`;
    const fake = await startFakeProviders();
    const redis = new Redis({ host: "127.0.0.1", port: 6379, enableOfflineQueue: false });
    try {
      const guard = guardedClient({
        providers: { openai: new OpenAI({ apiKey: "sk-test", baseURL: fake.openaiBaseURL, maxRetries: 0 }) },
        store: createRedisStore(redis, { prefix }),
      });
      for (const user of ["alice", "alice", "bob"]) {
        await guard.for({ user }).openai.chat.completions.create({
          model: "gpt-4o-mini",
          max_tokens: 8,
          messages: [{ role: "user", content: `${user} ${randomUUID()}` }],
        });
      }
      await guard.close();
      const expected = await guard.usage({ groupBy: ["user"] });

      const io = captureIo();
      expect(await runUsage(["--store", storeUrl, "--group-by", "user", "--json"], io)).toBe(0);
      const rows = JSON.parse(io.out) as { group: { user: string }; requests: number; costNanoUsd: number }[];
      const simplify = (list: readonly { group: { user?: string }; requests: number; costNanoUsd: number }[]) =>
        list.map((row) => [row.group.user, row.requests, row.costNanoUsd]).sort();
      expect(simplify(rows)).toEqual(simplify(expected));
      expect(rows.map((row) => row.requests).sort()).toEqual([1, 2]);

      const table = captureIo();
      expect(await runUsage(["--store", storeUrl, "--group-by", "user,model"], table)).toBe(0);
      expect(table.out).toMatch(/alice\s+gpt-4o-mini\s+2/);

      const block = captureIo();
      expect(
        await runBlockCommand("block", ["--store", storeUrl, "--user", "bob", "--reason", "leaked key"], block),
      ).toBe(0);
      await expect(
        guard.for({ user: "bob" }).openai.chat.completions.create({
          model: "gpt-4o-mini",
          max_tokens: 8,
          messages: [{ role: "user", content: "x" }],
        }),
      ).rejects.toMatchObject({ code: "BLOCKED", reason: "leaked key" });
      const listed = captureIo();
      await runBlockCommand("blocked", ["--store", storeUrl, "--json"], listed);
      expect(JSON.parse(listed.out)).toMatchObject([{ scope: "user:bob", reason: "leaked key" }]);
      await runBlockCommand("unblock", ["--store", storeUrl, "--user", "bob"], captureIo());
      const after = captureIo();
      await runBlockCommand("blocked", ["--store", storeUrl], after);
      expect(after.out).toBe("nothing is blocked\n");

      const bad = captureIo();
      expect(await runUsage(["--store", storeUrl, "--group-by", "planet"], bad)).toBe(2);
      expect(bad.err).toContain('"planet"');
    } finally {
      redis.disconnect();
      await fake.close();
    }
  });
});
