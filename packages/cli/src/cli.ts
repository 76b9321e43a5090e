#!/usr/bin/env node
// Each command loads its own modules when it runs: `tollgate scan` in a CI step should not first load every provider
// SDK, the fake provider server and the database drivers that the demo and the store commands need.
import { processIo } from "./command-io";

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
    const { runDemo } = await import("./demo");
    if (storeIndex === -1) {
      await runDemo();
      return 0;
    }
    const url = argv[storeIndex + 1];
    if (url === undefined) {
      process.stderr.write("tollgate demo: --store needs a URL\n");
      return 2;
    }
    const { openStore } = await import("./open-store");
    const opened = await openStore(url);
    try {
      await runDemo(undefined, { store: opened.store });
    } finally {
      await opened.close();
    }
    return 0;
  }
  if (command === "usage") return (await import("./usage-command")).runUsage(argv.slice(1), processIo);
  if (command === "report") return (await import("./report-command")).runReport(argv.slice(1), processIo);
  if (command === "alerts") return (await import("./alerts-command")).runAlerts(argv.slice(1), processIo);
  if (command === "block" || command === "unblock" || command === "blocked") {
    return (await import("./block-command")).runBlockCommand(command, argv.slice(1), processIo);
  }
  if (command === "scan") {
    const { runScan } = await import("./scan/run-scan");
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
