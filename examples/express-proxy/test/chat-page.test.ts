import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FakeProviders, startFakeProviders } from "@tollgate/testing";
import { type BrowserContext, chromium, type Page, type Response } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { keyShape, type RunningChat, serverProviderKey, startChat } from "./harness";
import { tollgateScan } from "./tollgate-scan";

// Debian's `chromium` package (apt-get install -y chromium); CI installs it. A missing browser fails the test.
const chromiumPath = "/usr/bin/chromium";
const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** The little of the DOM the functions below use; they run in the page, and this file compiles without DOM types. */
declare const document: {
  cookie: string;
  querySelector(selector: string): { textContent: string | null } | null;
};

let fake: FakeProviders;
let chat: RunningChat;
let scratch: string;
let browser: BrowserContext;
let page: Page;

beforeAll(async () => {
  if (!existsSync(chromiumPath)) {
    throw new Error(`${chromiumPath} is missing: apt-get install -y chromium (.ci/run installs it)`);
  }
  // Slow chunks, so the test can watch the reply grow.
  fake = await startFakeProviders({ rules: [{ fault: { chunkDelayMs: 60 } }] });
  chat = await startChat(fake, {
    maxOutputTokens: 8,
    limits: [{ id: "user-rpm", scope: "user", requests: 2, per: "1m" }],
  });
  scratch = await mkdtemp(join(tmpdir(), "tollgate-chat-page-"));
  // A persistent context is how Playwright takes a `--user-data-dir`: a fresh, empty one per run.
  browser = await chromium.launchPersistentContext(join(scratch, "chromium-profile"), {
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
  });
  page = browser.pages()[0] ?? (await browser.newPage());
});

afterAll(async () => {
  await browser?.close();
  await chat?.close();
  await fake?.close();
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
});

async function sendMessage(text: string): Promise<void> {
  await page.fill("#prompt", text);
  await page.click("#send");
}

/** One response as the browser got it: status line, headers and body, as text a scanner can read. */
async function transcript(response: Response): Promise<string> {
  const headers = (await response.headersArray()).map(({ name, value }) => `${name}: ${value}`).join("\n");
  const body = await response.body().catch(() => Buffer.from("")); // a 204 or a redirect has none
  return `${response.status()} ${response.request().method()} ${response.url()}\n${headers}\n\n${body.toString("utf8")}`;
}

it("streams a reply into the page, shows the limit as a message, and serves nothing a scan finds a key in", async () => {
  const received: Response[] = [];
  page.on("response", (response) => received.push(response));
  const pageErrors: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("console", (message) => {
    // Chromium logs every 4xx response as a console error; anything else (a CSP violation, a bug) is a failure.
    if (message.type() === "error" && !message.text().includes("status of 429")) pageErrors.push(message.text());
  });

  await page.goto(chat.url);
  await sendMessage("Hello");

  // Streamed: the reply is seen part-way before it is complete.
  const assistant = page.locator(".message.assistant").first();
  await page.waitForFunction(() => {
    const text = document.querySelector(".message.assistant")?.textContent ?? "";
    return text.startsWith("w1 ") && !text.includes("w8");
  });
  await expect.poll(() => assistant.textContent(), { timeout: 5_000 }).toBe("w1 w2 w3 w4 w5 w6 w7 w8 ");
  expect(await page.locator(".message.user").first().textContent()).toBe("Hello");

  await sendMessage("Again");
  await expect.poll(() => page.locator(".message.assistant").nth(1).textContent()).toBe("w1 w2 w3 w4 w5 w6 w7 w8 ");

  // The third message in a minute: the limit, as a friendly message with the wait.
  const refusal = page.waitForResponse((response) => response.url().endsWith("/api/chat") && response.status() === 429);
  await sendMessage("Third time");
  const refused = await refusal;
  const notice = page.locator("#notice");
  await notice.waitFor({ state: "visible" });
  const retryAfter = Number(await refused.headerValue("retry-after"));
  // A sliding window of 20 slots: capacity returns when the first call's 3-second slot leaves the minute.
  expect(Number.isInteger(retryAfter) && retryAfter > 50 && retryAfter <= 63).toBe(true);
  expect(await notice.textContent()).toBe(`You are sending messages too fast. Try again in ${retryAfter} seconds.`);
  expect(await refused.headerValue("ratelimit-policy")).toBe('"user-rpm";q=2;w=60');
  expect(await refused.headerValue("ratelimit")).toBe(`"user-rpm";r=0;t=${retryAfter}`);
  // The refused message is handed back for a later retry, and it never reached the provider.
  expect(await page.inputValue("#prompt")).toBe("Third time");
  expect(await page.locator(".message.user").count()).toBe(2);
  expect(fake.requests).toHaveLength(2);
  expect(received.filter((response) => response.url().endsWith("/api/chat")).map((r) => r.status())).toEqual([
    200, 200, 429,
  ]);

  // Everything the browser received — the page, its script and style, the streams, the 429, every header — and the
  // DOM it built, into a folder for `tollgate scan`.
  const served = join(scratch, "served");
  await mkdir(served);
  const transcripts = await Promise.all(received.map(transcript));
  expect(received.map((response) => new URL(response.url()).pathname)).toEqual(
    expect.arrayContaining(["/", "/app.js", "/style.css", "/api/chat"]),
  );
  await Promise.all(transcripts.map((text, index) => writeFile(join(served, `response-${index}.txt`), text)));
  await writeFile(join(served, "dom.html"), await page.content());
  for (const text of transcripts) {
    expect(text).not.toContain(serverProviderKey);
    expect(text).not.toMatch(keyShape);
  }

  // The control: the same scan over a copy of app.js with the server's key pasted in finds exactly that key.
  const planted = join(scratch, "planted");
  await mkdir(planted);
  const appScript = await readFile(new URL("../public/app.js", import.meta.url), "utf8");
  await writeFile(join(planted, "app.js"), `${appScript}\nconst leaked = "${serverProviderKey}";\n`);

  const [clean, control] = await Promise.all([tollgateScan(served), tollgateScan(planted)]);
  expect(clean.scannedFiles).toBe(transcripts.length + 1);
  expect(clean.findings).toEqual([]);
  expect(clean.exitCode).toBe(0);
  expect(control.findings).toMatchObject([{ file: "app.js", provider: "openai", kind: "project" }]);
  expect(control.exitCode).toBe(1);
  expect(control.output).not.toContain(serverProviderKey); // the scanner redacts what it reports

  expect(await page.evaluate(() => document.cookie)).toBe(""); // the session cookie is HttpOnly
  expect(pageErrors).toEqual([]);
}, 60_000);
