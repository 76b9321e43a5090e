#!/usr/bin/env node
import { runDemo } from "./demo";
import { runScan } from "./scan/run-scan";

const usage = `Usage: tollgate <command>

Commands:
  demo              Play what Tollgate stops, offline, against a fake provider server
  scan <paths…>     Find leaked provider keys in build output (--format text|json|sarif, --allow <file>)`;

async function main(argv: readonly string[]): Promise<number> {
  const [command] = argv;
  if (command === "demo") {
    await runDemo();
    return 0;
  }
  if (command === "scan") {
    return runScan(argv.slice(1), {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
      // The progress line goes to stderr, so that is the stream whose terminal matters.
      isTTY: process.stderr.isTTY === true,
    });
  }
  process.stderr.write(`${usage}\n`);
  return command === undefined || command === "--help" || command === "-h" ? 0 : 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`tollgate: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
