import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeKeys, placeholderKeys } from "../../test/fixtures/scan/fake-keys";
import { createFixtureTree, type FixtureTree, positionOf } from "../../test/fixtures/scan/fixture-tree";
import { type SarifLog, sarifSchemaErrors } from "../../test/fixtures/scan/sarif-schema";
import { fingerprintKey } from "./key-fingerprint";
import { redactKey } from "./redact";
import { runScan, type ScanIo } from "./run-scan";
import { sarifSchemaUri } from "./sarif-report";

interface Captured {
  exitCode: number;
  stdout: string;
  stderr: string;
}

async function scan(argv: string[], cwd: string, overrides: Partial<ScanIo> = {}): Promise<Captured> {
  let stdout = "";
  let stderr = "";
  const exitCode = await runScan(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    isTTY: false,
    cwd,
    ...overrides,
  });
  return { exitCode, stdout, stderr };
}

/** Every planted key, and a chunk from the middle of each: neither may appear in any output. */
function expectNoKeyIn(output: string, keys: readonly string[]): void {
  for (const key of keys) {
    expect(output.includes(key), "a whole key was printed").toBe(false);
    const middle = key.slice(Math.floor(key.length / 2) - 6, Math.floor(key.length / 2) + 6);
    expect(output.includes(middle), "part of a key body was printed").toBe(false);
  }
}

const keys = {
  bundle: fakeKeys.openAiProject(),
  sourceMap: fakeKeys.anthropicApi(),
  html: fakeKeys.google(),
  dotEnv: fakeKeys.openAiAdmin(),
  vendor: fakeKeys.openAiLegacy(),
  binary: fakeKeys.openAiServiceAccount(),
  git: fakeKeys.anthropicAdmin(),
};
const plantedKeys = Object.values(keys);

const bundle = `!function(){${"var a=1;".repeat(250_000)}const c={apiKey:"${keys.bundle}"};${"f();".repeat(10)}}();`;
const sourceMap = JSON.stringify({
  version: 3,
  file: "index-4f2a.js",
  sources: ["../../src/main.ts", "../../src/config.ts"],
  sourcesContent: ["import './config';\n", `export const config = {\n  anthropicKey: "${keys.sourceMap}",\n};\n`],
  names: [],
  mappings: "AAAA",
});
const html = `<!doctype html>\n<html>\n  <head>\n    <script>window.GEMINI_KEY = "${keys.html}";</script>\n  </head>\n</html>\n`;
const dotEnv = `# copied by a careless build step\r\nNODE_ENV=production\r\nOPENAI_ADMIN_KEY=${keys.dotEnv}\r\n`;
const vendor = `module.exports = { key: '${keys.vendor}' };\n`;
const docs = `# Setup\n\n${placeholderKeys()
  .map((placeholder) => `- \`OPENAI_API_KEY=${placeholder}\``)
  .join("\n")}\n`;

let tree: FixtureTree;

beforeAll(async () => {
  tree = await createFixtureTree("run-scan");
  await tree.write("dist/assets/index-4f2a.js", bundle);
  await tree.write("dist/assets/index-4f2a.js.map", sourceMap);
  await tree.write("dist/index.html", html);
  await tree.write("dist/.env", dotEnv);
  await tree.write("dist/node_modules/vendor-lib/index.js", vendor);
  await tree.write("dist/docs.md", docs);
  await tree.write(
    "dist/logo.png",
    Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d]), Buffer.from(keys.binary)]),
  );
  await tree.write("dist/.git/config", `token = ${keys.git}\n`);
  await tree.write("clean/app.js", `console.log("sk-SK locale, AIza-less, ${placeholderKeys().join(" ")}");\n`);
});

afterAll(async () => {
  await tree.remove();
});

const expectedFindings = () => [
  { file: "dist/.env", ...positionOf(dotEnv, keys.dotEnv), provider: "openai", kind: "admin" },
  { file: "dist/assets/index-4f2a.js", ...positionOf(bundle, keys.bundle), provider: "openai", kind: "project" },
  {
    file: "dist/assets/index-4f2a.js.map",
    ...positionOf(sourceMap, keys.sourceMap),
    provider: "anthropic",
    kind: "api",
  },
  { file: "dist/index.html", ...positionOf(html, keys.html), provider: "google", kind: "api" },
  {
    file: "dist/node_modules/vendor-lib/index.js",
    ...positionOf(vendor, keys.vendor),
    provider: "openai",
    kind: "legacy",
  },
];

describe("runScan text output", () => {
  it("lists each finding as path:line:column provider kind redacted fingerprint, then a summary; exit 1", async () => {
    const { exitCode, stdout, stderr } = await scan(["dist"], tree.root);
    expect(exitCode).toBe(1);
    expect(stderr).toBe("");
    const lines = stdout.trimEnd().split("\n");
    expect(lines.slice(0, -1)).toEqual([
      `dist/.env:3:18  openai  admin  ${redactKey(keys.dotEnv)}  ${fingerprintKey(keys.dotEnv)}`,
      `dist/assets/index-4f2a.js:1:2000030  openai  project  ${redactKey(keys.bundle)}  ${fingerprintKey(keys.bundle)}`,
      `dist/assets/index-4f2a.js.map:1:${sourceMap.indexOf(keys.sourceMap) + 1}  anthropic  api  ${redactKey(keys.sourceMap)}  ${fingerprintKey(keys.sourceMap)}  (from ../../src/config.ts:2:18)`,
      `dist/index.html:4:34  google  api  ${redactKey(keys.html)}  ${fingerprintKey(keys.html)}`,
      `dist/node_modules/vendor-lib/index.js:1:26  openai  legacy  ${redactKey(keys.vendor)}  ${fingerprintKey(keys.vendor)}`,
    ]);
    expect(lines.at(-1)).toMatch(/^5 keys found in 5 files; 6 files scanned, 1 skipped \(1 binary\) in \d+ ms$/);
    expectNoKeyIn(stdout + stderr, plantedKeys);
  });

  it("exits 0 with a summary when nothing is found, placeholders included", async () => {
    const { exitCode, stdout } = await scan(["clean", "dist/docs.md"], tree.root);
    expect(exitCode).toBe(0);
    expect(stdout).toMatch(/^no provider keys found; 2 files scanned in \d+ ms\n$/);
  });
});

describe("runScan json output", () => {
  it("gives findings with exact positions and the counts", async () => {
    const { exitCode, stdout } = await scan(["dist", "--format", "json"], tree.root);
    expect(exitCode).toBe(1);
    const report = JSON.parse(stdout) as Record<string, unknown> & { findings: Record<string, unknown>[] };
    expect(
      report.findings.map(({ file, line, column, provider, kind }) => ({ file, line, column, provider, kind })),
    ).toEqual(expectedFindings());
    expect(report.findings[2]).toMatchObject({
      redacted: redactKey(keys.sourceMap),
      fingerprint: fingerprintKey(keys.sourceMap),
      originalSource: { file: "../../src/config.ts", line: 2, column: 18 },
    });
    expect(report).toMatchObject({ scannedFiles: 6, skippedFiles: 1, allowed: 0 });
    expect(report.elapsedMs).toEqual(expect.any(Number));
    expect(report.skipped).toEqual([{ file: "dist/logo.png", reason: "binary" }]);
    expectNoKeyIn(stdout, plantedKeys);
  });
});

describe("runScan sarif output", () => {
  it("writes a SARIF 2.1.0 log, valid against the official schema, with rules, located results and partial fingerprints", async () => {
    const { exitCode, stdout } = await scan(["dist", "--format=sarif"], tree.root);
    expect(exitCode).toBe(1);
    expectNoKeyIn(stdout, plantedKeys);
    const log = JSON.parse(stdout) as SarifLog;
    expect(sarifSchemaErrors(log)).toEqual([]);
    expect(log.$schema).toBe(sarifSchemaUri);
    expect(log.version).toBe("2.1.0");
    const [run] = log.runs;
    expect(run?.tool.driver.name).toBe("tollgate-scan");
    const ruleIds = run?.tool.driver.rules.map((rule) => rule.id) ?? [];
    expect(ruleIds).toEqual(expect.arrayContaining(["openai-project-key", "anthropic-api-key", "google-api-key"]));
    expect(new Set(ruleIds).size).toBe(ruleIds.length);
    expect(run?.originalUriBaseIds?.["%SRCROOT%"]?.uri).toMatch(/^file:\/\/.*\/$/);

    const results = run?.results ?? [];
    expect(
      results.map((result) => {
        const location = result.locations[0]?.physicalLocation;
        return {
          file: location?.artifactLocation.uri,
          line: location?.region.startLine,
          column: location?.region.startColumn,
          ruleId: result.ruleId,
        };
      }),
    ).toEqual(
      expectedFindings().map(({ file, line, column, provider, kind }) => ({
        file,
        line,
        column,
        ruleId: `${provider}-${kind}-key`,
      })),
    );
    for (const result of results) {
      expect(run?.tool.driver.rules[result.ruleIndex]?.id).toBe(result.ruleId);
      expect(result.locations[0]?.physicalLocation.artifactLocation.uriBaseId).toBe("%SRCROOT%");
      expect(result.partialFingerprints["tollgateKeyFingerprint/v1"]).toMatch(/^[0-9a-f]{16}$/);
      expect(result.message.text).toContain("…");
    }
    expect(results[1]?.message.text).toContain(redactKey(keys.bundle));
  });

  it("writes a log valid against the official schema, with no results, when the tree is clean; exit 0", async () => {
    const { exitCode, stdout } = await scan(["clean", "--format", "sarif"], tree.root);
    expect(exitCode).toBe(0);
    const log = JSON.parse(stdout) as SarifLog;
    expect(sarifSchemaErrors(log)).toEqual([]);
    expect(log.runs[0]?.results).toEqual([]);
  });
});

describe("runScan allow lists", () => {
  it("allows by fingerprint and by glob from --allow, counting what it let through", async () => {
    await tree.write(
      "allow/by-fingerprint-and-glob.txt",
      `# test keys\n${fingerprintKey(keys.html)}\ndist/node_modules/**\n*.map:${fingerprintKey(keys.bundle)}\n`,
    );
    const { exitCode, stdout } = await scan(
      ["dist", "--allow", "allow/by-fingerprint-and-glob.txt", "--format", "json"],
      tree.root,
    );
    expect(exitCode).toBe(1);
    const report = JSON.parse(stdout) as { findings: { file: string }[]; allowed: number };
    // The bundle's key is allowed only in .map files, so it is still reported in the bundle.
    expect(report.findings.map((finding) => finding.file)).toEqual([
      "dist/.env",
      "dist/assets/index-4f2a.js",
      "dist/assets/index-4f2a.js.map",
    ]);
    expect(report.allowed).toBe(2);
  });

  it("reads tollgate-scan-allow.txt from the working directory and takes --allow-pattern; exit 0 when all are allowed", async () => {
    const allowTree = await createFixtureTree("run-scan-allow");
    try {
      const allowedByPattern = fakeKeys.google();
      await allowTree.write("dist/a.js", `"${keys.bundle}";"${allowedByPattern}"`);
      await allowTree.write("tollgate-scan-allow.txt", `dist/a.js:${fingerprintKey(keys.bundle)}\n`);
      const { exitCode, stdout } = await scan(
        ["dist", "--allow-pattern", `^${allowedByPattern.slice(0, 10)}`],
        allowTree.root,
      );
      expect(exitCode).toBe(0);
      expect(stdout).toMatch(/^no provider keys found; 1 file scanned, 2 allowed in \d+ ms\n$/);
    } finally {
      await allowTree.remove();
    }
  });
});

describe("runScan usage and skips", () => {
  it.each([
    [[]],
    [["dist", "--format", "xml"]],
    [["dist", "--no-such-flag"]],
    [["missing-folder"]],
    [["dist", "--allow", "no-such-allow-list.txt"]],
    [["dist", "--allow-pattern", "(unclosed"]],
    [["dist", "--max-file-bytes", "-5"]],
  ])("exits 2 with the usage on stderr for %j", async (argv) => {
    const { exitCode, stdout, stderr } = await scan(argv, tree.root);
    expect(exitCode).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/^tollgate scan: .+\n\nUsage: tollgate scan/);
  });

  it("never echoes a key passed where a flag value belongs", async () => {
    const { exitCode, stderr } = await scan(["dist", "--format", keys.bundle], tree.root);
    expect(exitCode).toBe(2);
    expectNoKeyIn(stderr, [keys.bundle]);
    const missing = await scan([`dist/${keys.html}`], tree.root);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain(redactKey(keys.html));
    expectNoKeyIn(missing.stderr, [keys.html]);
  });

  it("prints the usage on stdout for --help and exits 0", async () => {
    const { exitCode, stdout } = await scan(["--help"], tree.root);
    expect(exitCode).toBe(0);
    expect(stdout).toMatch(/^Usage: tollgate scan/);
  });

  it("skips files over --max-file-bytes with a note on stderr", async () => {
    const { exitCode, stdout, stderr } = await scan(["dist", "--max-file-bytes", "1000000"], tree.root);
    expect(exitCode).toBe(1);
    expect(stderr).toBe(
      `tollgate scan: skipped dist/assets/index-4f2a.js: ${Buffer.byteLength(bundle)} bytes is over --max-file-bytes 1000000\n`,
    );
    expect(stdout).toContain("2 skipped (1 too-large, 1 binary)");
    expect(stdout).not.toContain("index-4f2a.js:1:");
  });
});

describe("runScan progress", () => {
  let manyFiles: FixtureTree;
  const fileCount = 2101;

  beforeAll(async () => {
    manyFiles = await createFixtureTree("run-scan-many");
    // One folder made once, then plain writes: creating the folder for each of 2,000 files would dominate the suite.
    await manyFiles.write("dist/chunk-0000.js", "export const n = 0;\n");
    const writes: Promise<void>[] = [];
    for (let index = 1; index < fileCount; index++) {
      const name = `chunk-${String(index).padStart(4, "0")}.js`;
      writes.push(writeFile(path.join(manyFiles.root, "dist", name), `export const n = ${index};\n`));
    }
    await Promise.all(writes);
  });

  afterAll(async () => {
    await manyFiles.remove();
  });

  /** Each reading of the clock is 50 ms later: a redraw is due every fourth file. */
  function steppingClock(): () => number {
    let now = 0;
    return () => {
      now += 50;
      return now;
    };
  }

  it("draws a progress line on a terminal's stderr for more than 2,000 files, never on stdout", async () => {
    const { exitCode, stdout, stderr } = await scan(["dist", "--format", "json"], manyFiles.root, {
      isTTY: true,
      clock: steppingClock(),
    });
    expect(exitCode).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ scannedFiles: fileCount, findings: [] });
    expect(stderr).toMatch(/^\r scanned \d+\/2101 files/);
    expect(stderr.endsWith("\r\u001b[K")).toBe(true);
    const counts = [...stderr.matchAll(/scanned (\d+)\/2101/g)].map((match) => Number(match[1]));
    expect(counts.length).toBeGreaterThan(10);
    expect(counts.length).toBeLessThan(fileCount / 2);
  });

  it("draws nothing when stderr is not a terminal", async () => {
    const { stderr } = await scan(["dist"], manyFiles.root, { isTTY: false, clock: steppingClock() });
    expect(stderr).toBe("");
  });
});
