/**
 * Compiles a limit's `models` list into one predicate. Globs use `*` for any run of characters; everything
 * else matches literally. A provider prefix such as `models/` (Gemini) is stripped before matching.
 */
export function compileModelFilter(patterns: readonly string[] | undefined): (model: string) => boolean {
  if (patterns === undefined || patterns.length === 0) return () => true;
  const exact = new Set(patterns.filter((pattern) => !pattern.includes("*")));
  const globs = patterns
    .filter((pattern) => pattern.includes("*"))
    .map((pattern) => new RegExp(`^${pattern.split("*").map(escapeRegExp).join(".*")}$`));
  return (model) => {
    const name = model.startsWith("models/") ? model.slice("models/".length) : model;
    return exact.has(name) || globs.some((glob) => glob.test(name));
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
