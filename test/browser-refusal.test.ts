import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runInNewContext } from "node:vm";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

describe("browser refusal", () => {
  it("a browser bundle of @tollgate/core throws BrowserEnvironmentError on load", async () => {
    const folder = mkdtempSync(join(tmpdir(), "tollgate-browser-"));
    const entry = join(folder, "app.js");
    writeFileSync(
      entry,
      `import { guardedClient } from "@tollgate/core";\nglobalThis.loaded = typeof guardedClient;\n`,
    );
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      platform: "browser",
      format: "iife",
      // Resolved like a frontend build would: through the package's exports, `browser` condition first.
      nodePaths: [join(import.meta.dirname, "node_modules")],
      logLevel: "silent",
    });
    const code = result.outputFiles[0]!.text;
    const window: Record<string, unknown> = { document: {} };
    window.window = window;
    let thrown: unknown;
    try {
      runInNewContext(code, window);
    } catch (error) {
      thrown = error;
    }
    expect((thrown as { code?: string }).code).toBe("BROWSER_ENVIRONMENT");
    expect((thrown as Error).message).toMatch(/server only/);
    expect(window.loaded).toBeUndefined();
  });

  it("Node imports the built package (ESM and CJS) and runs it", () => {
    const esm = execFileSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { guardedClient } from "@tollgate/core"; console.log(typeof guardedClient);`,
      ],
      { cwd: join(import.meta.dirname), encoding: "utf8" },
    );
    const cjs = execFileSync(process.execPath, ["-e", `console.log(typeof require("@tollgate/core").guardedClient)`], {
      cwd: join(import.meta.dirname),
      encoding: "utf8",
    });
    expect(esm.trim()).toBe("function");
    expect(cjs.trim()).toBe("function");
  });

  it("guardedClient refuses to run where window and document exist", async () => {
    const { guardedClient, BrowserEnvironmentError } = await import("@tollgate/core");
    const scope = globalThis as Record<string, unknown>;
    scope.window = scope;
    scope.document = {};
    try {
      expect(() => guardedClient({ providers: {} })).toThrow(BrowserEnvironmentError);
    } finally {
      delete scope.window;
      delete scope.document;
    }
  });
});
