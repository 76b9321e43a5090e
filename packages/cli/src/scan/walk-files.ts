import type { Dirent } from "node:fs";
import { readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";

export interface WalkedFile {
  absolutePath: string;
  /** Relative to the working directory with forward slashes: what reports and allow-list globs use. */
  displayPath: string;
}

export interface WalkOptions {
  cwd: string;
}

/**
 * Only `.git` is left out. `node_modules` is not: in build output it holds vendored code that ships to users, and a
 * key baked into a bundled dependency leaks as surely as one in the app.
 */
const skippedDirectoryNames: ReadonlySet<string> = new Set([".git"]);

/**
 * Every regular file under the given paths (files or folders), depth first, each folder's entries in code-unit
 * order so every run and every machine lists the same files in the same order.
 *
 * Symbolic links inside the tree are not followed: a target inside the tree is scanned at its own path anyway, a
 * target outside it is not build output, and following none rules out loops. A path given on the command line is
 * taken as named even if it is a link. A file reached twice (overlapping paths) is listed once.
 */
export async function walkFiles(roots: readonly string[], options: WalkOptions): Promise<WalkedFile[]> {
  const files: WalkedFile[] = [];
  const seenRealPaths = new Set<string>();
  const seenRealDirectories = new Set<string>();

  async function visitDirectory(absoluteDirectory: string, realDirectory: string): Promise<void> {
    if (seenRealDirectories.has(realDirectory)) return;
    seenRealDirectories.add(realDirectory);
    let entries: Dirent[];
    try {
      entries = await readdir(absoluteDirectory, { withFileTypes: true });
    } catch {
      // A folder that vanished or cannot be listed has nothing to scan; the run goes on.
      return;
    }
    entries.sort((left, right) => compareCodeUnits(left.name, right.name));
    for (const entry of entries) {
      if (entry.isSymbolicLink()) continue;
      const { name } = entry;
      const absolutePath = path.join(absoluteDirectory, name);
      const realPath = path.join(realDirectory, name);
      if (entry.isDirectory()) {
        if (!skippedDirectoryNames.has(name)) await visitDirectory(absolutePath, realPath);
      } else if (entry.isFile()) {
        addFile(absolutePath, realPath);
      }
    }
  }

  function addFile(absolutePath: string, realPath: string): void {
    if (seenRealPaths.has(realPath)) return;
    seenRealPaths.add(realPath);
    files.push({ absolutePath, displayPath: toDisplayPath(absolutePath, options.cwd) });
  }

  for (const root of roots) {
    const absoluteRoot = path.resolve(options.cwd, root);
    const [stats, realRoot] = await Promise.all([stat(absoluteRoot), realpath(absoluteRoot)]);
    if (stats.isDirectory()) await visitDirectory(absoluteRoot, realRoot);
    else if (stats.isFile()) addFile(absoluteRoot, realRoot);
  }
  return files;
}

/** `a.localeCompare(b)` differs by locale and ICU version; code-unit order does not. */
function compareCodeUnits(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

export function toDisplayPath(absolutePath: string, cwd: string): string {
  return path.relative(cwd, absolutePath).split(path.sep).join("/");
}
