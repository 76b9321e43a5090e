#!/usr/bin/env node
import { runBlockCommand } from "./block-command";
import { processIo } from "./command-io";
import { runDemo } from "./demo";
import { runScan } from "./scan/run-scan";
import { runUsage } from "./usage-command";

const usage = `Usage: tollgate <command>

Commands:
  demo              Play what Tollgate stops, offline, against a fake provider server
  scan <paths…>     Find leaked provider keys in build output (--format text|json|sarif, --allow <file>)
  usage             Spend and tokens from a store's ledger (--store <url> --since 7d --group-by user,model,day)
  block | unblock   The kill switch for a user, IP, key, tenant, session or everything (--store <url>)
  blocked           What is blocked (--store <url>)

Store URLs: redis://host:6379, postgres://user@host/db, pglite:./folder`;

async function main(argv: readonly string[]): Promise<number> {
  const [command] = argv;
  if (command === "demo") {
    await runDemo();
    return 0;
  }
  if (command === "usage") return runUsage(argv.slice(1), processIo);
  if (command === "block" || command === "unblock" || command === "blocked") {
    return runBlockCommand(command, argv.slice(1), processIo);
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
