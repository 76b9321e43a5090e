import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// A frontend bundle that imports @tollgate/core, loaded by a real headless Chromium from a loopback server: the
// package's `browser` export condition makes the bundle throw BrowserEnvironmentError as it loads, before any
// code of the app runs. Debian's `chromium` package provides the browser (CI installs it): in CI a missing browser
// fails this file; elsewhere it is skipped with a notice.

const chromiumPath = "/usr/bin/chromium";
const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
];
const haveChromium = existsSync(chromiumPath);
const ci = process.env.CI === "true";
if (!haveChromium && !ci) console.warn(`Skipping the Chromium browser-refusal test: ${chromiumPath} is missing`);

const corePackage = fileURLToPath(new URL("../packages/core/", import.meta.url));

/**
 * A `node_modules` folder in which `@tollgate/core` resolves as it will from npm: the package's own `package.json`
 * (its `exports` map, `browser` condition included) over its built `dist/`. When this checkout has not been built
 * (`pnpm build`; CI builds before testing), the browser entry is built here from its source, as tsup would.
 */
async function installedCore(folder: string): Promise<{ nodeModules: string; built: "pnpm build" | "from source" }> {
  const builtEntry = join(corePackage, "dist", "browser.js");
  if (existsSync(builtEntry)) {
    return { nodeModules: fileURLToPath(new URL("./node_modules", import.meta.url)), built: "pnpm build" };
  }
  const installed = join(folder, "node_modules", "@tollgate", "core");
  await mkdir(join(installed, "dist"), { recursive: true });
  await cp(join(corePackage, "package.json"), join(installed, "package.json"));
  await build({
    entryPoints: [join(corePackage, "src", "browser.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    outfile: join(installed, "dist", "browser.js"),
    logLevel: "silent",
  });
  return { nodeModules: join(folder, "node_modules"), built: "from source" };
}

const page = `<!doctype html>
<html><head><meta charset="utf-8"><title>tollgate in a browser</title></head>
<body>
<p id="status">loading</p>
<script>
  // What the page saw: the error the bundle threw while loading, or what the app managed to run.
  window.addEventListener("error", (event) => {
    const error = event.error || {};
    document.getElementById("status").textContent =
      JSON.stringify({ threw: true, name: error.name, code: error.code, message: error.message });
  });
</script>
<script src="/app.js"></script>
<script>
  if (document.getElementById("status").textContent === "loading") {
    document.getElementById("status").textContent = JSON.stringify({ threw: false, loaded: String(window.loaded) });
  }
</script>
</body></html>`;

let folder: string;
let server: Server | undefined;
let browser: Browser | undefined;
let url: string;
let builtBy: string;

beforeAll(async () => {
  if (!haveChromium) return;
  folder = await mkdtemp(join(tmpdir(), "tollgate-chromium-refusal-"));
  const entry = join(folder, "app.js");
  await writeFile(entry, `import { guardedClient } from "@tollgate/core";\nwindow.loaded = typeof guardedClient;\n`);
  const core = await installedCore(folder);
  builtBy = core.built;
  const bundle = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform: "browser", // resolved like a frontend build: through the package's exports, `browser` condition first
    format: "iife",
    nodePaths: [core.nodeModules],
    logLevel: "silent",
  });
  const script = bundle.outputFiles[0]!.text;
  server = createServer((request, response) => {
    if (request.url === "/app.js") {
      response.writeHead(200, { "content-type": "text/javascript" }).end(script);
    } else if (request.url === "/") {
      response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  if (folder !== undefined) await rm(folder, { recursive: true, force: true });
});

describe.skipIf(!haveChromium && !ci)("browser refusal in real Chromium", () => {
  it("a page loading a bundle that imports @tollgate/core gets BrowserEnvironmentError, and the app never runs", async () => {
    if (!haveChromium) throw new Error(`CI=true but ${chromiumPath} is missing: apt-get install -y chromium`);
    const tab = await browser!.newPage();
    const pageErrors: { name: string; message: string }[] = [];
    tab.on("pageerror", (error) => pageErrors.push({ name: error.name, message: error.message }));
    await tab.goto(url);
    const status = JSON.parse((await tab.textContent("#status")) ?? "null") as Record<string, unknown>;
    const loaded = await tab.evaluate(() => String((globalThis as { loaded?: unknown }).loaded));
    await tab.close();

    expect(status).toMatchObject({ threw: true, name: "BrowserEnvironmentError", code: "BROWSER_ENVIRONMENT" });
    expect(String(status.message)).toMatch(/server only/);
    expect(pageErrors.map((error) => error.message)).toEqual([expect.stringMatching(/server only/)]);
    expect(loaded).toBe("undefined"); // the app's own code after the import never ran
    console.info(`Chromium refused the bundle (core's browser entry built by ${builtBy}): ${String(status.message)}`);
  });
});
