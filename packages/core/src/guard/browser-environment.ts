import { BrowserEnvironmentError } from "../errors/browser-environment-error";

const message =
  "Tollgate runs on the server only: in a browser the provider API key would ship to every visitor. Call your own backend instead.";

/**
 * `true` in a browser page or a browser worker. Server runtimes (Node, Bun, Deno, edge workers) have neither
 * `window`+`document` nor a `WorkerGlobalScope` that is a browser's: Deno and workerd expose no `document`, and
 * edge workers are not `DedicatedWorkerGlobalScope`s.
 */
export function isBrowserEnvironment(): boolean {
  const scope = globalThis as {
    window?: unknown;
    document?: unknown;
    WorkerGlobalScope?: unknown;
    importScripts?: unknown;
  };
  if (typeof scope.window === "object" && scope.window !== null && typeof scope.document === "object") return true;
  const constructorName = (globalThis as { constructor?: { name?: string } }).constructor?.name;
  return (
    typeof scope.WorkerGlobalScope === "function" &&
    typeof scope.importScripts === "function" &&
    (constructorName === "DedicatedWorkerGlobalScope" ||
      constructorName === "SharedWorkerGlobalScope" ||
      constructorName === "ServiceWorkerGlobalScope")
  );
}

export function assertServerEnvironment(): void {
  if (isBrowserEnvironment()) throw new BrowserEnvironmentError(message);
}

export { message as browserEnvironmentMessage };
