import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FakeProviders, startFakeProviders } from "@tollgate/testing";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { keyShape, type RunningChat, serverProviderKey, startChat } from "./harness";

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
let userDataDirectory: string;
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
  userDataDirectory = await mkdtemp(join(tmpdir(), "tollgate-chromium-"));
  // A persistent context is how Playwright takes a `--user-data-dir`: a fresh, empty one per run.
  browser = await chromium.launchPersistentContext(userDataDirectory, {
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
  if (userDataDirectory !== undefined) await rm(userDataDirectory, { recursive: true, force: true });
});

async function sendMessage(text: string): Promise<void> {
  await page.fill("#prompt", text);
  await page.click("#send");
}

it("streams replies into the page, then shows the 429 message after the limit", async () => {
  const responses: string[] = [];
  page.on("response", (response) => responses.push(`${response.status()} ${new URL(response.url()).pathname}`));
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

  await sendMessage("Third time");
  const notice = page.locator("#notice");
  await notice.waitFor({ state: "visible" });
  expect(await notice.textContent()).toMatch(/^You are sending messages too fast\. Try again in \d+ s\.$/);
  // The refused message is handed back for a later retry, and it never reached the provider.
  expect(await page.inputValue("#prompt")).toBe("Third time");
  expect(await page.locator(".message.user").count()).toBe(2);
  expect(fake.requests).toHaveLength(2);
  expect(responses.filter((line) => line.endsWith("/api/chat"))).toEqual([
    "200 /api/chat",
    "200 /api/chat",
    "429 /api/chat",
  ]);

  // Every byte the browser got: no provider key, no key-shaped string. The session cookie is HttpOnly.
  const served = await Promise.all(
    ["/", "/app.js", "/style.css"].map(async (path) => (await page.request.get(`${chat.url}${path}`)).text()),
  );
  for (const text of [...served, await page.content()]) {
    expect(text).not.toMatch(keyShape);
    expect(text).not.toContain(serverProviderKey);
  }
  expect(await page.evaluate(() => document.cookie)).toBe("");
  expect(pageErrors).toEqual([]);
});
