/**
 * The server's clock in epoch milliseconds. `clock_timestamp()` (not `now()`, which is frozen at the start of the
 * transaction) so that a call that waited for a row lock reads the time after the wait: per counter, the times of
 * successive admissions then follow the order in which they held the lock.
 */
export const serverNowMs = "floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

/**
 * Wraps a function body in dollar quotes whose tag does not occur in it. Bodies contain quoted identifiers built
 * from the user's schema and prefix, which may contain `$`.
 */
export function dollarQuote(body: string): string {
  let tag = "$tollgate$";
  for (let attempt = 1; body.includes(tag); attempt++) tag = `$tollgate${attempt}$`;
  return `${tag}${body}${tag}`;
}

/** A SQL string literal, as Postgres' own `quote_literal` writes it (the `E''` form when a backslash occurs). */
export function quoteLiteral(text: string): string {
  const quoted = text.replaceAll("'", "''");
  return text.includes("\\") ? `E'${quoted.replaceAll("\\", "\\\\")}'` : `'${quoted}'`;
}
