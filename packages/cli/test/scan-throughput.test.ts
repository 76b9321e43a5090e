import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mapWithConcurrency } from "../src/scan/map-with-concurrency";
import { runScan, scanConcurrency } from "../src/scan/run-scan";
import { walkFiles } from "../src/scan/walk-files";
import { fakeKeys } from "./fixtures/scan/fake-keys";
import { createFixtureTree, type FixtureTree } from "./fixtures/scan/fixture-tree";

/**
 * Throughput of `tollgate scan` on ~200 MB of synthetic build output: minified bundles on one line, their source
 * maps, HTML. Opt-in (it writes 200 MB): `TOLLGATE_SCAN_THROUGHPUT=1 pnpm vitest run --project cli scan-throughput`.
 * It prints the scan's MB/s next to a plain read of the same files with the same concurrency, the bound it is
 * measured against.
 */
const enabled = process.env.TOLLGATE_SCAN_THROUGHPUT === "1";
const targetBytes = Number(process.env.TOLLGATE_SCAN_THROUGHPUT_MB ?? 200) * 1024 * 1024;

/** Minified-looking code: identifiers, calls, strings, `sk-`/`AIza`-adjacent near misses a scanner must reject. */
function minifiedChunk(seed: number): string {
  const words = ["e", "t", "n", "r", "o", "i", "a", "s", "createElement", "useState", "exports", "default", "props"];
  const parts: string[] = [];
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state;
  };
  for (let index = 0; index < 20_000; index++) {
    const word = words[next() % words.length] ?? "e";
    switch (next() % 8) {
      case 0:
        parts.push(`function ${word}${index}(t,n){return t&&n.${word}?r(t,n):void 0}`);
        break;
      case 1:
        parts.push(`var ${word}=${next() % 100000};`);
        break;
      case 2:
        parts.push(`"${word}-${(next() % 1e9).toString(36)}"`);
        break;
      case 3:
        parts.push(`${word}.sk-SK=${word}.task-${index};`);
        break;
      case 4:
        parts.push(`o.default.${word}("div",{className:"x${index}"},i)`);
        break;
      case 5:
        parts.push(`"AIz${(next() % 1e6).toString(36)}"`);
        break;
      default:
        parts.push(`${word}[${next() % 64}]=${word}>>>${next() % 31};`);
    }
  }
  return parts.join(",");
}

describe.runIf(enabled)("scan throughput", () => {
  let tree: FixtureTree;
  let totalBytes = 0;
  const planted: string[] = [];

  beforeAll(async () => {
    tree = await createFixtureTree("scan-throughput");
    const chunks = Array.from({ length: 8 }, (_, index) => minifiedChunk(index + 1));
    for (let fileIndex = 0; totalBytes < targetBytes; fileIndex++) {
      const chunk = chunks[fileIndex % chunks.length] ?? "";
      const bundle = `!function(){${chunk.repeat(2)}}();`;
      let content = bundle;
      if (fileIndex % 50 === 0) {
        const key = fakeKeys.openAiProject();
        planted.push(key);
        content = `${bundle.slice(0, 500_000)}"${key}"${bundle.slice(500_000)}`;
      }
      const map = JSON.stringify({
        version: 3,
        sources: [`src/m${fileIndex}.ts`],
        sourcesContent: [chunk],
        mappings: "AAAA",
      });
      const html = `<!doctype html><html><body>${'<div class="row"><span>text</span></div>\n'.repeat(2000)}</body></html>`;
      const folder = `dist/part-${Math.floor(fileIndex / 100)}`;
      await tree.write(`${folder}/bundle-${fileIndex}.js`, content);
      await tree.write(`${folder}/bundle-${fileIndex}.js.map`, map);
      await tree.write(`${folder}/page-${fileIndex}.html`, html);
      totalBytes += Buffer.byteLength(content) + Buffer.byteLength(map) + Buffer.byteLength(html);
    }
  }, 120_000);

  afterAll(async () => {
    await tree?.remove();
  });

  it("scans at the speed files can be read", async () => {
    const files = await walkFiles(["dist"], { cwd: tree.root });
    const readStartedAt = performance.now();
    await mapWithConcurrency(files, scanConcurrency, (file) => readFile(file.absolutePath));
    const readMs = performance.now() - readStartedAt;

    // Twice: the first run pays for JIT warm-up the way a fresh `tollgate scan` process does.
    const runs: number[] = [];
    let report = { findings: [] as unknown[], scannedFiles: 0, scannedBytes: 0 };
    for (let run = 0; run < 2; run++) {
      let stdout = "";
      const scanStartedAt = performance.now();
      const exitCode = await runScan(["dist", "--format", "json"], {
        stdout: (text) => {
          stdout += text;
        },
        stderr: () => {},
        isTTY: false,
        cwd: tree.root,
      });
      runs.push(performance.now() - scanStartedAt);
      report = JSON.parse(stdout) as typeof report;
      expect(exitCode).toBe(1);
      expect(report.findings).toHaveLength(planted.length);
    }

    const megabytes = report.scannedBytes / 1_000_000;
    const rate = (milliseconds: number) => `${(megabytes / (milliseconds / 1000)).toFixed(0)} MB/s`;
    console.log(
      `scan throughput: ${report.scannedFiles} files, ${megabytes.toFixed(0)} MB; ` +
        `scan ${runs.map((milliseconds) => `${milliseconds.toFixed(0)} ms = ${rate(milliseconds)}`).join(", then ")}; ` +
        `plain read ${readMs.toFixed(0)} ms = ${rate(readMs)}`,
    );
    expect(megabytes / (Math.min(...runs) / 1000)).toBeGreaterThan(100);
  }, 120_000);
});
