import { parseArgs } from "node:util";
import { type BlockedSubject, guardedClient } from "@tollgate/core";
import type { CommandIo } from "./command-io";
import { openStore, redactUrl } from "./open-store";

export const blockHelp = `Usage:
  tollgate block   --store <url> (--user <id> | --ip <ip> | --key <key> | --tenant <id> | --session <id> | --global) [--reason <text>] [--ttl 1h]
  tollgate unblock --store <url> (--user <id> | … | --global)
  tollgate blocked --store <url> [--json]

The kill switch: every instance sharing the store refuses the subject from its next call.`;

const ttlUnits: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const scopes = ["user", "ip", "key", "tenant", "session"] as const;

export async function runBlockCommand(
  command: "block" | "unblock" | "blocked",
  argv: readonly string[],
  io: CommandIo,
) {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      store: { type: "string" },
      user: { type: "string" },
      ip: { type: "string" },
      key: { type: "string" },
      tenant: { type: "string" },
      session: { type: "string" },
      global: { type: "boolean", default: false },
      reason: { type: "string" },
      ttl: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    io.stdout(`${blockHelp}\n`);
    return 0;
  }
  if (values.store === undefined) return fail(io, "--store is required");
  const chosen = [
    ...scopes.filter((scope) => values[scope] !== undefined),
    ...(values.global ? ["global" as const] : []),
  ];
  if (command !== "blocked" && chosen.length !== 1)
    return fail(io, "name exactly one of --user, --ip, --key, --tenant, --session, --global");
  let ttlMs: number | undefined;
  if (values.ttl !== undefined) {
    const match = /^(\d+)([smhd])$/.exec(values.ttl);
    if (!match) return fail(io, `--ttl: "${values.ttl}" is not like 30m, 1h or 7d`);
    ttlMs = Number(match[1]) * ttlUnits[match[2]!]!;
  }
  const opened = await openStore(values.store).catch((error: unknown) => {
    io.stderr(`tollgate: cannot open ${redactUrl(values.store!)}: ${error instanceof Error ? error.message : error}\n`);
    return undefined;
  });
  if (opened === undefined) return 1;
  // A guard without providers: the same block list `guard.block()` writes, reached without any SDK client.
  const guard = guardedClient({ providers: {}, store: opened.store, clock: io.now });
  try {
    if (command === "blocked") {
      const entries = await guard.blocked();
      io.stdout(values.json ? `${JSON.stringify(entries.map(describeEntry), null, 2)}\n` : formatBlocked(entries));
      return 0;
    }
    const scope = chosen[0]!;
    const value = scope === "global" ? undefined : values[scope];
    const subject = scope === "global" ? "global" : { [scope]: value };
    if (command === "unblock") {
      await guard.unblock(subject);
      io.stdout(`unblocked ${describeSubject(scope, value)}\n`);
      return 0;
    }
    await guard.block(subject, {
      ...(values.reason === undefined ? {} : { reason: values.reason }),
      ...(ttlMs === undefined ? {} : { ttlMs }),
    });
    const until = ttlMs === undefined ? "" : ` until ${new Date(io.now() + ttlMs).toISOString()}`;
    io.stdout(`blocked ${describeSubject(scope, value)}${until}\n`);
    return 0;
  } finally {
    await guard.close();
    await opened.close();
  }
}

function describeSubject(scope: string, value: string | undefined): string {
  return value === undefined ? scope : `${scope} ${value}`;
}

function describeEntry(entry: BlockedSubject) {
  return {
    scope: entry.scope,
    reason: entry.reason ?? null,
    since: entry.since.toISOString(),
    until: entry.until === undefined ? null : entry.until.toISOString(),
  };
}

function formatBlocked(entries: readonly BlockedSubject[]): string {
  if (entries.length === 0) return "nothing is blocked\n";
  return `${entries
    .map((entry) => {
      const described = describeEntry(entry);
      return `${described.scope}  since ${described.since}${described.until === null ? "" : `  until ${described.until}`}${described.reason === null ? "" : `  (${described.reason})`}`;
    })
    .join("\n")}\n`;
}

function fail(io: CommandIo, message: string): number {
  io.stderr(`tollgate: ${message}\n\n${blockHelp}\n`);
  return 2;
}
