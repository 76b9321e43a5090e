const unitMs: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `--since 7d` / `--since 2026-11-01`: an epoch-ms instant, or `undefined` when the text is neither. */
export function parseInstant(text: string, now: number): number | undefined {
  const relative = /^(\d+)([mhdw])$/.exec(text);
  if (relative) return now - Number(relative[1]) * unitMs[relative[2]!]!;
  const absolute = Date.parse(text);
  return Number.isNaN(absolute) ? undefined : absolute;
}
