import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

/** Starts a TypeScript test script in a new Node process, resolving workspace packages to their sources. */
export function spawnScript(script: string, parameters: string[], stdin: "pipe" | "ignore" = "ignore"): ChildProcess {
  return spawn(
    process.execPath,
    ["--import", "tsx", "--conditions=source", fileURLToPath(new URL(script, import.meta.url)), ...parameters],
    { cwd: fileURLToPath(new URL("..", import.meta.url)), stdio: [stdin, "pipe", "inherit"] },
  );
}

export interface ChildOutput {
  text: string;
  /** Resolves when a line equal to `line` has been printed; rejects if the child exits first. */
  line(line: string): Promise<void>;
  /** The last line printed, parsed as JSON, once the child has exited with code 0. */
  result(): Promise<unknown>;
}

export function collectOutput(child: ChildProcess): ChildOutput {
  const waiters: { line: string; resolve: () => void; reject: (error: Error) => void }[] = [];
  const exited = once(child, "exit") as Promise<[number | null]>;
  const output: ChildOutput = {
    text: "",
    line: (line) =>
      new Promise<void>((resolve, reject) => {
        waiters.push({ line, resolve, reject });
        check();
      }),
    async result() {
      const [code] = await exited;
      if (code !== 0) throw new Error(`child exited with code ${code}: ${output.text}`);
      return JSON.parse(output.text.trim().split("\n").at(-1) ?? "null");
    },
  };
  const check = () => {
    const lines = output.text.split("\n");
    for (const waiter of [...waiters]) {
      if (lines.includes(waiter.line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  child.stdout?.on("data", (chunk: Buffer) => {
    output.text += chunk.toString();
    check();
  });
  child.on("exit", (code) => {
    for (const waiter of waiters.splice(0)) waiter.reject(new Error(`child exited (${code}): ${output.text}`));
  });
  return output;
}
