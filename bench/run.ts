// `pnpm bench [--quick] [--only=guard,estimation,store,scale]`: runs the sections, prints one table and the targets,
// and writes everything to bench/results/run-<ISO time>.json.
import { mkdir, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { type BenchContext, createContext, type Section } from "./context";
import { estimation } from "./estimation";
import { footprint } from "./footprint";
import { guardOverhead } from "./guard-overhead";
import { describeMachine } from "./machine";
import { formatTable, type Row, resolveRatios } from "./report";
import { storeAdmission } from "./store-admission";
import { evaluateTargets, formatTargets } from "./targets";

const sections: Section[] = [guardOverhead, estimation, storeAdmission, footprint];

function parseArguments(argv: readonly string[]): { quick: boolean; only: Set<string> | undefined } {
  let quick = false;
  let only: Set<string> | undefined;
  for (const argument of argv) {
    if (argument === "--quick") quick = true;
    else if (argument.startsWith("--only=")) only = new Set(argument.slice("--only=".length).split(","));
    else if (argument !== "--")
      throw new Error(
        `unknown argument ${argument}; use --quick and --only=${sections.map((section) => section.name).join(",")}`,
      );
  }
  return { quick, only };
}

async function runSection(section: Section, context: BenchContext): Promise<Row[]> {
  const startedAt = performance.now();
  try {
    return await section.run(context);
  } catch (error) {
    context.log(
      `section ${section.name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    return [
      {
        id: `${section.name}.failed`,
        section: section.name,
        name: "section failed",
        mode: "—",
        note: `FAILED: ${error instanceof Error ? error.message : String(error)}`,
      },
    ];
  } finally {
    context.log(`section ${section.name} took ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
  }
}

const { quick, only } = parseArguments(process.argv.slice(2));
const context = createContext(quick);
const startedAt = new Date();
const machine = await describeMachine(context);
const rows: Row[] = [];
for (const section of sections) {
  if (only !== undefined && !only.has(section.name)) continue;
  rows.push(...(await runSection(section, context)));
}
resolveRatios(rows);
const targets = evaluateTargets(rows);
const durationS = (Date.now() - startedAt.getTime()) / 1000;
const loadAverageAtEnd = loadavg()[0] ?? 0;

const title = `Tollgate benchmarks${quick ? " (--quick)" : ""}, ${startedAt.toISOString()}, ${durationS.toFixed(0)} s`;
process.stdout.write(
  `\n${title}\n${machine.summary} (${loadAverageAtEnd.toFixed(2)} at the end)\n\n${formatTable(rows)}\n\n${formatTargets(targets)}\n`,
);

const resultsDirectory = new URL("./results/", import.meta.url);
await mkdir(resultsDirectory, { recursive: true });
const file = new URL(`run-${startedAt.toISOString().replaceAll(":", "-")}.json`, resultsDirectory);
await writeFile(
  file,
  `${JSON.stringify({ startedAt: startedAt.toISOString(), quick, durationS, machine, loadAverageAtEnd, rows, targets }, null, 2)}\n`,
);
process.stdout.write(`\nJSON: ${file.pathname}\n`);
