import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { walkFiles } from "./walk-files";

let root: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "tollgate-walk-"));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function write(relativePath: string, content = "x"): Promise<void> {
  const absolutePath = path.join(root, relativePath);
  await mkdir(path.dirname(absolutePath), { recursive: true });
  await writeFile(absolutePath, content);
}

describe("walkFiles", () => {
  it("lists files depth first in code-unit order, keeps node_modules and skips .git", async () => {
    await write("dist/b.js");
    await write("dist/a.js");
    await write("dist/B.js");
    await write("dist/assets/z.css");
    await write("dist/node_modules/lib/index.js");
    await write("dist/.git/config");
    await write("dist/.env");
    const files = await walkFiles(["dist"], { cwd: root });
    expect(files.map((file) => file.displayPath)).toEqual([
      "dist/.env",
      "dist/B.js",
      "dist/a.js",
      "dist/assets/z.css",
      "dist/b.js",
      "dist/node_modules/lib/index.js",
    ]);
    expect(files[0]?.absolutePath).toBe(path.join(root, "dist/.env"));
  });

  it("takes files and folders, listing a file reached twice once", async () => {
    await write("dist/app.js");
    await write("public/index.html");
    const files = await walkFiles(["public/index.html", "dist", "dist/app.js"], { cwd: root });
    expect(files.map((file) => file.displayPath)).toEqual(["public/index.html", "dist/app.js"]);
  });

  it("follows no symbolic link inside the tree, so a loop or a link outside costs nothing", async () => {
    await write("dist/app.js");
    await write("outside/secret.txt");
    await symlink(path.join(root, "dist"), path.join(root, "dist/loop"));
    await symlink(path.join(root, "outside"), path.join(root, "dist/outside-link"));
    await symlink(path.join(root, "outside/secret.txt"), path.join(root, "dist/file-link.txt"));
    const files = await walkFiles(["dist"], { cwd: root });
    expect(files.map((file) => file.displayPath)).toEqual(["dist/app.js"]);
  });

  it("follows a path given on the command line even when it is a link", async () => {
    await write("build/app.js");
    await symlink(path.join(root, "build"), path.join(root, "dist"));
    const files = await walkFiles(["dist"], { cwd: root });
    expect(files.map((file) => file.displayPath)).toEqual(["dist/app.js"]);
  });
});
