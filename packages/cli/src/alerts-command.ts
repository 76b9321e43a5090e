import { parseArgs } from "node:util";
import { type AlertRow, alertRow, formatAlertTime } from "./alert-rows";
import type { CommandIo } from "./command-io";
import { openStore, redactUrl } from "./open-store";
import { parseInstant } from "./parse-duration-ago";

const defaultLimit = 100;

export const alertsHelp = `Usage: tollgate alerts --store <url> [--since 7d] [--until <date>] [--limit ${defaultLimit}] [--json]

Lists the alerts a guard delivered (budget thresholds and projections, loops, anomalies, reconciliation mismatches),
newest first, from the store's alert log: redis://host:6379, postgres://…, pglite:./folder.
--json prints the log's entries as stored: { time (epoch ms), alert (dates as ISO strings) }.`;

/** `tollgate alerts`: the store's alert log over a range, as lines or JSON. */
export async function runAlerts(argv: readonly string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      store: { type: "string" },
      since: { type: "string", default: "7d" },
      until: { type: "string" },
      limit: { type: "string", default: String(defaultLimit) },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    io.stdout(`${alertsHelp}\n`);
    return 0;
  }
  if (values.store === undefined) return alertsError(io, "--store is required");
  const now = io.now();
  const since = parseInstant(values.since, now);
  const until = values.until === undefined ? now + 1 : parseInstant(values.until, now);
  if (since === undefined) return alertsError(io, `--since: "${values.since}" is neither 7d/24h/30m nor a date`);
  if (until === undefined) return alertsError(io, `--until: "${values.until}" is not a date`);
  const limit = Number(values.limit);
  if (!(Number.isSafeInteger(limit) && limit > 0)) return alertsError(io, "--limit needs a positive whole number");
  const store = values.store;

  const opened = await openStore(store).catch((error: unknown) => {
    io.stderr(`tollgate: cannot open ${redactUrl(store)}: ${error instanceof Error ? error.message : error}\n`);
    return undefined;
  });
  if (opened === undefined) return 1;
  try {
    const entries = await opened.store.listAlerts({ since, until, limit });
    if (values.json) io.stdout(`${JSON.stringify(entries, null, 2)}\n`);
    else io.stdout(formatAlertLines(entries.map(alertRow)));
    return 0;
  } finally {
    await opened.close();
  }
}

function alertsError(io: CommandIo, message: string): number {
  io.stderr(`tollgate alerts: ${message}\n\n${alertsHelp}\n`);
  return 2;
}

/** One line per alert: UTC time, type, and what the sinks were told. Control characters of subject values are escaped. */
export function formatAlertLines(rows: readonly AlertRow[]): string {
  if (rows.length === 0) return "no alerts in this range\n";
  const typeWidth = Math.max(...rows.map((row) => row.type.length));
  return rows
    .map((row) => `${formatAlertTime(row.time)}  ${row.type.padEnd(typeWidth)}  ${printable(row.description)}\n`)
    .join("");
}

/** Subject values are user input: a terminal must not receive their escape sequences or line breaks. */
function printable(text: string): string {
  let safe = "";
  for (const character of text) {
    const code = character.charCodeAt(0);
    const control = code < 0x20 || (code >= 0x7f && code <= 0x9f);
    safe += control ? `\\u${code.toString(16).padStart(4, "0")}` : character;
  }
  return safe;
}
