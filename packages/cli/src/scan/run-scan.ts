import { stat } from "node:fs/promises";
import path from "node:path";
import { type AllowEntry, createAllowList, defaultAllowListFileName, readAllowListFile } from "./allow-list";
import { formatJsonReport } from "./json-report";
import { mapWithConcurrency } from "./map-with-concurrency";
import { createProgressLine } from "./progress-line";
import { redactKeysInText } from "./redact";
import { formatSarifReport } from "./sarif-report";
import { parseScanArguments, type ScanOptions, scanUsage } from "./scan-arguments";
import { type AllowPredicate, scanFile } from "./scan-file";
import type { KeyFinding, ScanReport, SkippedFile } from "./scan-report";
import { formatTextReport } from "./text-report";
import { walkFiles } from "./walk-files";

export interface ScanIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stderr is a terminal: the progress line is drawn there and only there. */
  isTTY: boolean;
  /** Where relative paths, globs and `tollgate-scan-allow.txt` are resolved; defaults to `process.cwd()`. */
  cwd?: string;
  /** Milliseconds, for the elapsed time and the progress line's pace; defaults to `performance.now`. */
  clock?: () => number;
}

/** Files read at once: enough to keep an SSD's queue busy, few enough that eight 50 MB buffers fit in memory. */
export const scanConcurrency = 8;
/** Below this, a scan ends before a progress line would be worth reading. */
export const progressFileThreshold = 2000;

const usageErrorExitCode = 2;

/**
 * `tollgate scan <paths…>`: `argv` is what follows `scan`. Returns the exit code — 0 when no key was found, 1 when
 * one was, 2 for a usage error (bad flag, missing path, unreadable allow list). Every byte written goes through
 * `redactKeysInText` on its way out, so not even a key in a file name is printed whole.
 */
export async function runScan(argv: readonly string[], io: ScanIo): Promise<number> {
  const clock = io.clock ?? (() => performance.now());
  const startedAt = clock();
  const cwd = io.cwd ?? process.cwd();
  const stdout = (text: string) => io.stdout(redactKeysInText(text));
  const stderr = (text: string) => io.stderr(redactKeysInText(text));
  const usageError = (message: string) => {
    stderr(`tollgate scan: ${message}\n\n${scanUsage}\n`);
    return usageErrorExitCode;
  };

  const parsed = parseScanArguments(argv);
  if (!parsed.ok) return usageError(parsed.message);
  const { options } = parsed;
  if (options.help) {
    stdout(`${scanUsage}\n`);
    return 0;
  }
  for (const scanPath of options.paths) {
    if (!(await pathExists(path.resolve(cwd, scanPath)))) return usageError(`${scanPath}: no such file or folder`);
  }
  const allowEntries = await loadAllowEntries(options, cwd);
  if (typeof allowEntries === "string") return usageError(allowEntries);

  const allowList = createAllowList(allowEntries);
  const isAllowed: AllowPredicate = ({ file, fingerprint, key }) =>
    allowList.allows(file, fingerprint) || options.allowPatterns.some((pattern) => pattern.test(key));

  const files = await walkFiles(options.paths, { cwd });
  const progress =
    io.isTTY && files.length > progressFileThreshold
      ? createProgressLine({ write: stderr, total: files.length, clock })
      : undefined;
  let done = 0;
  const outcomes = await mapWithConcurrency(files, scanConcurrency, async (file) => {
    const outcome = await scanFile(file.absolutePath, file.displayPath, {
      maxFileBytes: options.maxFileBytes,
      isAllowed,
    });
    done++;
    progress?.update(done);
    return outcome;
  });
  progress?.finish();

  const findings: KeyFinding[] = [];
  const skippedFiles: SkippedFile[] = [];
  let scannedBytes = 0;
  let allowed = 0;
  outcomes.forEach((outcome, index) => {
    const file = files[index]?.displayPath ?? "";
    if (outcome.status === "skipped") {
      skippedFiles.push({ file, reason: outcome.reason });
      // Binary files are the images and fonts of every build: counted in the summary, not named one by one.
      if (outcome.reason !== "binary") stderr(`tollgate scan: skipped ${file}: ${outcome.detail}\n`);
      return;
    }
    findings.push(...outcome.findings);
    scannedBytes += outcome.bytes;
    allowed += outcome.allowed;
  });

  const report: ScanReport = {
    findings,
    scannedFiles: files.length - skippedFiles.length,
    scannedBytes,
    skippedFiles,
    allowed,
    elapsedMs: clock() - startedAt,
  };
  if (options.format === "json") stdout(formatJsonReport(report));
  else if (options.format === "sarif") stdout(formatSarifReport(report, { cwd }));
  else stdout(formatTextReport(report));
  return findings.length > 0 ? 1 : 0;
}

/** The default allow list (when present) and every `--allow` file, or the message of a usage error. */
async function loadAllowEntries(options: ScanOptions, cwd: string): Promise<AllowEntry[] | string> {
  const entries: AllowEntry[] = [];
  const defaultFile = path.join(cwd, defaultAllowListFileName);
  if (await pathExists(defaultFile)) entries.push(...(await readAllowListFile(defaultFile)));
  for (const allowFile of options.allowFiles) {
    try {
      entries.push(...(await readAllowListFile(path.resolve(cwd, allowFile))));
    } catch {
      return `cannot read allow list ${allowFile}`;
    }
  }
  return entries;
}

async function pathExists(absolutePath: string): Promise<boolean> {
  try {
    await stat(absolutePath);
    return true;
  } catch {
    return false;
  }
}
