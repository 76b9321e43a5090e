import { readFile } from "node:fs/promises";

/** Read from the working directory when present, the way `.gitignore` is: no flag needed in CI. */
export const defaultAllowListFileName = "tollgate-scan-allow.txt";

export interface AllowEntry {
  /** Matched against the finding's path relative to the working directory; absent means any file. */
  pathGlob?: string;
  /** Lower-case hex, 16 to 64 digits, compared with the start of the key's SHA-256; absent means any key. */
  fingerprint?: string;
}

const fingerprintPattern = /^[0-9a-f]{16,64}$/i;
const globWithFingerprint = /^(.+):([0-9a-f]{16,64})$/i;

/**
 * An allow-list file: one entry a line, `#` starts a comment (whole line, or after whitespace).
 * - `3f9a0c1d2e3f4a5b`: that key, in any file (16 hex digits; the full 64-digit SHA-256 works too).
 * - `dist/legacy/**`: any key in files the glob matches.
 * - `test/fixtures/*.js:3f9a0c1d2e3f4a5b`: that key in those files.
 * A line of only hex digits is a fingerprint; to name a file called like one, write `./` before it.
 */
export function parseAllowList(text: string): AllowEntry[] {
  const entries: AllowEntry[] = [];
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.replace(/(^|\s)#.*$/, "").trim();
    if (line === "") continue;
    if (fingerprintPattern.test(line)) {
      entries.push({ fingerprint: line.toLowerCase() });
      continue;
    }
    const both = globWithFingerprint.exec(line);
    if (both?.[1] !== undefined && both[2] !== undefined) {
      entries.push({ pathGlob: both[1], fingerprint: both[2].toLowerCase() });
      continue;
    }
    entries.push({ pathGlob: line });
  }
  return entries;
}

export async function readAllowListFile(filePath: string): Promise<AllowEntry[]> {
  return parseAllowList(await readFile(filePath, "utf8"));
}

export interface AllowList {
  allows(file: string, fingerprint: string): boolean;
}

export function createAllowList(entries: readonly AllowEntry[]): AllowList {
  const compiled = entries.map((entry) => ({
    fingerprint: entry.fingerprint,
    path: entry.pathGlob === undefined ? undefined : globToRegExp(entry.pathGlob),
  }));
  return {
    allows(file, fingerprint) {
      return compiled.some(
        (entry) =>
          // An entry may hold the full SHA-256; a finding's fingerprint is its first 16 digits.
          (entry.fingerprint === undefined || entry.fingerprint.startsWith(fingerprint)) &&
          (entry.path === undefined || entry.path.test(file)),
      );
    },
  };
}

/**
 * A `.gitignore`-style glob as a regular expression over forward-slash paths relative to the working directory:
 * `*` and `?` stay within a folder name, `**` crosses folders, a glob without a slash matches a name at any depth,
 * a leading `/` or `./` anchors it, and a glob naming a folder matches everything inside it.
 */
export function globToRegExp(glob: string): RegExp {
  let pattern = glob.trim().replace(/^\.\//, "");
  const anchored = pattern.startsWith("/") || pattern.replace(/\/$/, "").includes("/");
  pattern = pattern.replace(/^\/+/, "").replace(/\/+$/, "");
  let source = "";
  for (let index = 0; index < pattern.length; index++) {
    const character = pattern[index] ?? "";
    if (character === "*" && pattern[index + 1] === "*") {
      const followedBySlash = pattern[index + 2] === "/";
      source += followedBySlash ? "(?:.*/)?" : ".*";
      index += followedBySlash ? 2 : 1;
    } else if (character === "*") {
      source += "[^/]*";
    } else if (character === "?") {
      source += "[^/]";
    } else {
      source += character.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    }
  }
  return new RegExp(`^${anchored ? "" : "(?:.*/)?"}${source}(?:/.*)?$`);
}
