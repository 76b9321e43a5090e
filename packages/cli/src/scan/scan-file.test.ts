import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeKeys } from "../../test/fixtures/scan/fake-keys";
import { fingerprintKey } from "./key-fingerprint";
import { redactKey } from "./redact";
import { scanFile, scanText } from "./scan-file";

let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(path.join(tmpdir(), "tollgate-scan-file-"));
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe("scanText", () => {
  it("reports file, line, column, provider, kind, redacted form and fingerprint", () => {
    const key = fakeKeys.openAiProject();
    const { findings } = scanText(`line one\n  const k = "${key}";\n`, "dist/app.js");
    expect(findings).toEqual([
      {
        file: "dist/app.js",
        line: 2,
        column: 14,
        provider: "openai",
        kind: "project",
        redacted: redactKey(key),
        fingerprint: fingerprintKey(key),
      },
    ]);
  });

  it("finds a key at its column on a 2 MB minified line", () => {
    const key = fakeKeys.anthropicApi();
    const column = 1_500_001;
    const text = `${"var a=1;".repeat(187_500)}"${key}";${"function(){}".repeat(40_000)}`;
    expect(text.indexOf(key) + 1).toBe(column + 1);
    const { findings } = scanText(text, "dist/bundle.min.js");
    expect(findings.map(({ line, column: found, provider }) => ({ line, column: found, provider }))).toEqual([
      { line: 1, column: column + 1, provider: "anthropic" },
    ]);
  });

  it("scans a 5 MB single-line bundle in well under a second", () => {
    const key = fakeKeys.google();
    const chunk = 'e.exports=function(t,n){return t&&n.sk?r(t.AIz,"sk-SK"):void 0},';
    const text = `${chunk.repeat(40_000)}"${key}"${chunk.repeat(40_000)}`;
    expect(text.length).toBeGreaterThan(5_000_000);
    const startedAt = performance.now();
    const { findings } = scanText(text, "dist/vendor.js");
    const elapsedMs = performance.now() - startedAt;
    expect(findings).toHaveLength(1);
    expect(elapsedMs).toBeLessThan(500);
  });

  it("gives CRLF files the same lines and columns as LF files", () => {
    const key = fakeKeys.openAiAdmin();
    const { findings } = scanText(`a\r\nb\r\nKEY=${key}\r\n`, "dist/.env");
    expect(findings[0]).toMatchObject({ line: 3, column: 5, kind: "admin" });
  });

  it("reports a key in a source map's sourcesContent at its place in the .map file, naming the original source", () => {
    const key = fakeKeys.openAiServiceAccount();
    const map = JSON.stringify({
      version: 3,
      sourceRoot: "webpack://app/",
      sources: ["./src/util.ts", "./src/config.ts"],
      sourcesContent: ["export const one = 1;\n", `// settings\nexport const apiKey =\n  "${key}";\n`],
      mappings: "AAAA",
    });
    const { findings } = scanText(map, "dist/app.js.map");
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      file: "dist/app.js.map",
      line: 1,
      column: map.indexOf(key) + 1,
      originalSource: { file: "webpack://app/./src/config.ts", line: 3, column: 4 },
    });
  });

  it("finds a key at the start of a sourcesContent line, right after the \\n escape", () => {
    const key = fakeKeys.google();
    const map = JSON.stringify({ version: 3, sources: ["a.env"], sourcesContent: [`A=1\n${key}\n`], mappings: "" });
    const { findings } = scanText(map, "dist/env.js.map");
    expect(findings[0]?.originalSource).toEqual({ file: "a.env", line: 2, column: 1 });
  });

  it("finds a key hidden in an inline base64 source map, at the sourceMappingURL comment", () => {
    const key = fakeKeys.anthropicAdmin();
    const map = JSON.stringify({ version: 3, sources: ["src/a.ts"], sourcesContent: [`const k = "${key}";`] });
    const text = `console.log(1);\n//# sourceMappingURL=data:application/json;charset=utf-8;base64,${Buffer.from(map).toString("base64")}\n`;
    const { findings } = scanText(text, "dist/a.js");
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      line: 2,
      column: 22,
      provider: "anthropic",
      originalSource: { file: "src/a.ts", line: 1, column: 12 },
    });
  });

  it("finds keys in HTML", () => {
    const key = fakeKeys.google();
    const html = `<!doctype html>\n<html>\n<script src="https://maps.example/js?key=${key}&libraries=places"></script>\n`;
    expect(scanText(html, "dist/index.html").findings[0]).toMatchObject({ line: 3, column: 42, provider: "google" });
  });

  it("counts keys the allow predicate lets through instead of reporting them", () => {
    const allowedKey = fakeKeys.google();
    const reportedKey = fakeKeys.google();
    const result = scanText(`"${allowedKey}" "${reportedKey}"`, "a.js", ({ key }) => key === allowedKey);
    expect(result.allowed).toBe(1);
    expect(result.findings.map((finding) => finding.fingerprint)).toEqual([fingerprintKey(reportedKey)]);
  });
});

describe("scanFile", () => {
  it("reads and scans a text file", async () => {
    const key = fakeKeys.openAiLegacy();
    const filePath = path.join(folder, "plain.js");
    await writeFile(filePath, `x="${key}"`);
    const outcome = await scanFile(filePath, "plain.js", { maxFileBytes: 1_000_000 });
    expect(outcome).toMatchObject({ status: "scanned", bytes: 55, allowed: 0, findings: [{ column: 4 }] });
  });

  it("skips a binary file even when it holds a key-like string", async () => {
    const filePath = path.join(folder, "image.png");
    await writeFile(
      filePath,
      Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0]), Buffer.from(fakeKeys.google())]),
    );
    expect(await scanFile(filePath, "image.png", { maxFileBytes: 1_000_000 })).toMatchObject({
      status: "skipped",
      reason: "binary",
    });
  });

  it("scans a file whose NUL bytes come after the first 8 KB", async () => {
    const key = fakeKeys.google();
    const filePath = path.join(folder, "late-nul.js");
    await writeFile(filePath, `${"a".repeat(9000)}\0"${key}"`);
    const outcome = await scanFile(filePath, "late-nul.js", { maxFileBytes: 1_000_000 });
    expect(outcome).toMatchObject({ status: "scanned", findings: [{ column: 9003 }] });
  });

  it("skips a file over the size limit", async () => {
    const filePath = path.join(folder, "big.js");
    await writeFile(filePath, "x".repeat(2000));
    expect(await scanFile(filePath, "big.js", { maxFileBytes: 1999 })).toEqual({
      status: "skipped",
      reason: "too-large",
      detail: "2000 bytes is over --max-file-bytes 1999",
    });
  });

  it("reports a file that cannot be opened as unreadable", async () => {
    expect(await scanFile(path.join(folder, "gone.js"), "gone.js", { maxFileBytes: 10 })).toEqual({
      status: "skipped",
      reason: "unreadable",
      detail: "ENOENT",
    });
  });
});
