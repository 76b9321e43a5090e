import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** What `tollgate scan --format json` reports (the fields these tests read). */
export interface ScanResult {
  exitCode: number | null;
  findings: { file: string; provider: string; kind: string; redacted: string }[];
  scannedFiles: number;
  /** Everything the command printed, to prove the key itself never appears in it. */
  output: string;
}

const require = createRequire(import.meta.url);
// @tollgate/cli exports no scan API, so the test runs the command itself, from its TypeScript sources (as
// `pnpm --filter @tollgate/cli demo` does): no build step needed, and it is the same code the published bin runs.
const cliEntry = join(dirname(require.resolve("@tollgate/cli/package.json")), "src", "cli.ts");
const tsxCli = require.resolve("tsx/cli");

/** `tollgate scan . --format json` in `folder` (so no allow list from elsewhere applies). */
export function tollgateScan(folder: string): Promise<ScanResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsxCli, "--conditions=source", cliEntry, "scan", ".", "--format", "json"], {
      cwd: folder,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    child.on("error", reject);
    child.on("close", (exitCode) => {
      try {
        const report = JSON.parse(stdout) as Pick<ScanResult, "findings" | "scannedFiles">;
        resolve({ exitCode, findings: report.findings, scannedFiles: report.scannedFiles, output: stdout + stderr });
      } catch {
        reject(new Error(`tollgate scan printed no JSON report (exit ${exitCode}): ${stderr}`));
      }
    });
  });
}
