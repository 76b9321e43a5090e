import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the `tollgate` command from its sources (no build needed), as a user would run it, and collects its output. */
export async function runTollgateCli(args: readonly string[]): Promise<CliRun> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "--conditions=source",
      fileURLToPath(new URL("../packages/cli/src/cli.ts", import.meta.url)),
      ...args,
    ],
    { cwd: fileURLToPath(new URL(".", import.meta.url)), stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout, stderr };
}
