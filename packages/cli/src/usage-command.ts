import { parseArgs } from "node:util";
import { formatUsd, type UsageGroupKey, type UsageRow } from "@tollgate/core";
import type { CommandIo } from "./command-io";
import { openStore, redactUrl } from "./open-store";
import { parseInstant } from "./parse-duration-ago";

const groupKeys: readonly UsageGroupKey[] = ["user", "ip", "key", "tenant", "model", "provider", "day"];

export const usageHelp = `Usage: tollgate usage --store <url> [--since 7d] [--until <date>] [--group-by user,model,day] [--top N] [--json | --csv]

Reads the usage ledger of a store: redis://host:6379, postgres://…, pglite:./folder.
Rows are sorted by cost, most expensive first.`;

/** `tollgate usage`: the ledger grouped as asked, as a table, JSON or CSV. */
export async function runUsage(argv: readonly string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      store: { type: "string" },
      since: { type: "string", default: "30d" },
      until: { type: "string" },
      "group-by": { type: "string", default: "user,model" },
      top: { type: "string" },
      json: { type: "boolean", default: false },
      csv: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    io.stdout(`${usageHelp}\n`);
    return 0;
  }
  if (values.store === undefined) return usageError(io, "--store is required");
  const now = io.now();
  const since = parseInstant(values.since, now);
  const until = values.until === undefined ? now + 1 : parseInstant(values.until, now);
  if (since === undefined) return usageError(io, `--since: "${values.since}" is neither 7d/24h/30m nor a date`);
  if (until === undefined) return usageError(io, `--until: "${values.until}" is not a date`);
  const groupBy = values["group-by"].split(",").filter((key) => key.length > 0);
  const unknown = groupBy.find((key) => !groupKeys.includes(key as UsageGroupKey));
  if (unknown !== undefined) return usageError(io, `--group-by: "${unknown}" is not one of ${groupKeys.join(", ")}`);
  const top = values.top === undefined ? undefined : Number(values.top);
  if (top !== undefined && !(Number.isInteger(top) && top > 0)) return usageError(io, "--top needs a positive number");

  const opened = await openStore(values.store).catch((error: unknown) => {
    io.stderr(`tollgate: cannot open ${redactUrl(values.store!)}: ${error instanceof Error ? error.message : error}\n`);
    return undefined;
  });
  if (opened === undefined) return 1;
  try {
    let rows = await opened.store.queryUsage({ since, until, groupBy: groupBy as UsageGroupKey[] });
    rows = [...rows].sort((left, right) => right.costNanoUsd - left.costNanoUsd);
    if (top !== undefined) rows = rows.slice(0, top);
    if (values.json)
      io.stdout(
        `${JSON.stringify(
          rows.map((row) => ({ ...row, costUsd: row.costNanoUsd / 1e9 })),
          null,
          2,
        )}\n`,
      );
    else if (values.csv) io.stdout(formatCsv(rows, groupBy as UsageGroupKey[]));
    else io.stdout(formatTable(rows, groupBy as UsageGroupKey[]));
    return 0;
  } finally {
    await opened.close();
  }
}

function usageError(io: CommandIo, message: string): number {
  io.stderr(`tollgate usage: ${message}\n\n${usageHelp}\n`);
  return 2;
}

const numberColumns = ["requests", "inputTokens", "cachedInputTokens", "outputTokens", "reasoningTokens"] as const;

export function formatTable(rows: readonly UsageRow[], groupBy: readonly UsageGroupKey[]): string {
  const header = [...groupBy, "requests", "input", "cached", "output", "reasoning", "cost"];
  const body = rows.map((row) => [
    ...groupBy.map((key) => row.group[key] ?? "—"),
    ...numberColumns.map((column) => row[column].toLocaleString("en-US")),
    formatUsd(row.costNanoUsd),
  ]);
  const total = rows.reduce(
    (sum, row) => ({ requests: sum.requests + row.requests, cost: sum.cost + row.costNanoUsd }),
    { requests: 0, cost: 0 },
  );
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((cells) => cells[column]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column < groupBy.length ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join("  ");
  return `${[line(header), ...body.map(line)].join("\n")}\n\n${rows.length} rows; ${total.requests.toLocaleString("en-US")} requests; ${formatUsd(total.cost)}\n`;
}

export function formatCsv(rows: readonly UsageRow[], groupBy: readonly UsageGroupKey[]): string {
  const csvCell = (value: string) => (/[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
  const header = [...groupBy, ...numberColumns, "cacheWriteInputTokens", "costUsd"].join(",");
  const lines = rows.map((row) =>
    [
      ...groupBy.map((key) => csvCell(row.group[key] ?? "")),
      ...numberColumns.map((column) => String(row[column])),
      String(row.cacheWriteInputTokens),
      (row.costNanoUsd / 1e9).toFixed(9),
    ].join(","),
  );
  return `${[header, ...lines].join("\n")}\n`;
}
