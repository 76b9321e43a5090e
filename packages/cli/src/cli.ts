#!/usr/bin/env node
import { runAlerts } from "./alerts-command";
import { runBlockCommand } from "./block-command";
import { processIo } from "./command-io";
import { runDemo } from "./demo";
import { openStore } from "./open-store";
import { runReport } from "./report-command";
import { runScan } from "./scan/run-scan";
import { runUsage } from "./usage-command";

const usage = `Usage: tollgate <command>

Commands:
  demo [--store <url>]  Play what Tollgate stops, offline, against a fake provider server
  scan <paths…>     Find leaked provider keys in build output (--format text|json|sarif, --allow <file>)
  usage             Spend and tokens from a store's ledger (--store <url> --since 7d --group-by user,model,day)
  report            A self-contained HTML page: spend per day vs budget, top users and models, alerts (--store <url> --out f.html)
  alerts            The alerts a guard delivered, newest first (--store <url> --since 7d --json)
  block | unblock   The kill switch for a user, IP, key, tenant, session or everything (--store <url>)
  blocked           What is blocked (--store <url>)

Store URLs: redis://host:6379, postgres://user@host/db, pglite:./folder`;

async function main(argv: readonly string[]): Promise<number> {
  const [command] = argv;
  if (command === "demo") {
    // `--store <url>` plays the demo on a real store, so `tollgate usage` / `report` can read its ledger afterwards.
    const storeIndex = argv.indexOf("--store");
    if (storeIndex === -1) {
      await runDemo();
      return 0;
    }
    const url = argv[storeIndex + 1];
    if (url === undefined) {
      process.stderr.write("tollgate demo: --store needs a URL\n");
      return 2;
    }
    const opened = await openStore(url);
    try {
      await runDemo(undefined, { store: opened.store });
    } finally {
      await opened.close();
    }
    return 0;
  }
  if (command === "usage") return runUsage(argv.slice(1), processIo);
  if (command === "report") return runReport(argv.slice(1), processIo);
  if (command === "alerts") return runAlerts(argv.slice(1), processIo);
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
