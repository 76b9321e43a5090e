// The fake provider server (`startFakeProviders()` of @tollgate/testing) in a child process.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface FakeServer {
  openaiBaseURL: string;
  anthropicBaseURL: string;
  googleBaseUrl: string;
  close(): Promise<void>;
}

interface FakeServerUrls {
  openaiBaseURL: string;
  anthropicBaseURL: string;
  googleBaseUrl: string;
}

export async function startFakeServer(): Promise<FakeServer> {
  // The child gets this process's flags (`--import tsx --conditions=source`), so it loads TypeScript sources too.
  const child = fork(fileURLToPath(new URL("./fake-server-process.ts", import.meta.url)), [], {
    execArgv: process.execArgv,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const urls = await new Promise<FakeServerUrls>((resolve, reject) => {
    child.once("message", (message: FakeServerUrls) => resolve(message));
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`the fake server process exited with code ${code}`)));
  });
  return {
    ...urls,
    close: async () => {
      child.send("close");
      await exited;
    },
  };
}
