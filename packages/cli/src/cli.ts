#!/usr/bin/env node
import { runDemo } from "./demo";

const usage = `Usage: tollgate <command>

Commands:
  demo    Play what Tollgate stops, offline, against a fake provider server`;

async function main(argv: readonly string[]): Promise<number> {
  const [command] = argv;
  if (command === "demo") {
    await runDemo();
    return 0;
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
