export type ScanFormat = "text" | "json" | "sarif";

export interface ScanOptions {
  paths: string[];
  format: ScanFormat;
  /** `--allow` files, in the order given; read in addition to `tollgate-scan-allow.txt`. */
  allowFiles: string[];
  /** `--allow-pattern`: a key matching any of these is allowed. */
  allowPatterns: RegExp[];
  maxFileBytes: number;
  help: boolean;
}

export type ParsedScanArguments = { ok: true; options: ScanOptions } | { ok: false; message: string };

/** 50 MB: larger than any bundle or source map worth shipping, small enough to hold eight at once. */
export const defaultMaxFileBytes = 50 * 1024 * 1024;

const formats: readonly ScanFormat[] = ["text", "json", "sarif"];

export const scanUsage = `Usage: tollgate scan <paths…> [options]

Finds OpenAI, Anthropic and Google API keys in build output (bundles, source maps, HTML, copied .env files).

Options:
  --format text|json|sarif   Output format (default: text)
  --allow <file>             Allow-list file: fingerprints, path globs or glob:fingerprint, one a line
                             (tollgate-scan-allow.txt in the working directory is read when present)
  --allow-pattern <regex>    Allow keys matching this regular expression (repeatable)
  --max-file-bytes <n>       Skip files larger than n bytes (default: ${defaultMaxFileBytes})
  -h, --help                 Show this help

Exit codes: 0 no keys found, 1 keys found, 2 usage error.`;

/**
 * Parses the arguments after `scan`. Flags take their value as the next argument or after `=`; `--` ends the
 * flags. Messages never repeat a value back: a user may have pasted a key where a flag value belongs.
 */
export function parseScanArguments(argv: readonly string[]): ParsedScanArguments {
  const options: ScanOptions = {
    paths: [],
    format: "text",
    allowFiles: [],
    allowPatterns: [],
    maxFileBytes: defaultMaxFileBytes,
    help: false,
  };
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index] ?? "";
    if (argument === "--") {
      options.paths.push(...argv.slice(index + 1));
      break;
    }
    if (argument === "-h" || argument === "--help") {
      options.help = true;
      continue;
    }
    if (!argument.startsWith("-") || argument === "-") {
      options.paths.push(argument);
      continue;
    }
    const equals = argument.indexOf("=");
    const flag = equals === -1 ? argument : argument.slice(0, equals);
    if (!["--format", "--allow", "--allow-pattern", "--max-file-bytes"].includes(flag)) {
      return { ok: false, message: `unknown option ${flag.length > 40 ? `${flag.slice(0, 40)}…` : flag}` };
    }
    let value: string | undefined;
    if (equals !== -1) {
      value = argument.slice(equals + 1);
    } else {
      value = argv[index + 1];
      index++;
    }
    if (value === undefined) return { ok: false, message: `${flag} needs a value` };

    if (flag === "--format") {
      const format = formats.find((candidate) => candidate === value);
      if (format === undefined) return { ok: false, message: `--format must be one of ${formats.join(", ")}` };
      options.format = format;
    } else if (flag === "--allow") {
      options.allowFiles.push(value);
    } else if (flag === "--allow-pattern") {
      try {
        options.allowPatterns.push(new RegExp(value));
      } catch (error) {
        // V8's message quotes the pattern; keep only the reason after it.
        const reason = error instanceof Error ? (error.message.split(": ").pop() ?? "") : "";
        return {
          ok: false,
          message: `--allow-pattern #${options.allowPatterns.length + 1} is not a valid regular expression (${reason})`,
        };
      }
    } else {
      if (!/^\d+$/.test(value)) return { ok: false, message: "--max-file-bytes must be a whole number of bytes" };
      options.maxFileBytes = Number(value);
    }
  }
  if (options.paths.length === 0 && !options.help) return { ok: false, message: "give at least one path to scan" };
  return { ok: true, options };
}
