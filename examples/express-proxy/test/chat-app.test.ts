import { request as httpRequest } from "node:http";
import type { GuardEvent } from "@tollgate/core";
import { type FakeProviders, startFakeProviders } from "@tollgate/testing";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  keyShape,
  newSession,
  parseEvents,
  postChat,
  type Reply,
  type RunningChat,
  send,
  serverProviderKey,
  startChat,
} from "./harness";

let fake: FakeProviders;
const running: RunningChat[] = [];
beforeAll(async () => {
  fake = await startFakeProviders();
});
beforeEach(() => fake.reset());
afterEach(async () => {
  for (const chat of running.splice(0)) await chat.close();
});
afterAll(() => fake.close());

async function start(options: Parameters<typeof startChat>[1] = {}): Promise<RunningChat> {
  const chat = await startChat(fake, options);
  running.push(chat);
  return chat;
}

/** Settlement runs after the response: wait for the guard to record the call. */
async function settled(chat: RunningChat, count: number): Promise<Extract<GuardEvent, { type: "call.settled" }>[]> {
  await chat.guard.close();
  const records = chat.events.filter((event) => event.type === "call.settled");
  expect(records).toHaveLength(count);
  return records;
}

describe("POST /api/chat", () => {
  it("streams the reply as server-sent events; the server picks model and output cap", async () => {
    const chat = await start({ maxOutputTokens: 6 });
    const cookie = await newSession(chat.url);

    const reply = await send(`${chat.url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie },
      body: JSON.stringify({ model: "o1-pro", max_tokens: 100_000, messages: [{ role: "user", content: "Hello" }] }),
    });

    expect(reply.status).toBe(200);
    expect(reply.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    const events = parseEvents(reply.text);
    expect(events.at(-1)?.name).toBe("done");
    expect(events.slice(0, -1).map((event) => event.data.text)).toEqual(["w1 ", "w2 ", "w3 ", "w4 ", "w5 ", "w6 "]);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]?.body).toMatchObject({
      model: "gpt-4o-mini",
      max_tokens: 6,
      stream: true,
      messages: [{ role: "user", content: "Hello" }],
    });
    const [record] = await settled(chat, 1);
    expect(record?.record).toMatchObject({ status: "ok", outputTokens: 6, ip: "127.0.0.1" });
    expect(record?.record.user).toBe(cookie.slice("chat_session=".length).split(".")[0]);
  });

  it("needs a session the server issued", async () => {
    const chat = await start();
    const page = await send(`${chat.url}/`);
    expect(page.headers["set-cookie"]?.[0]).toMatch(
      /^chat_session=[\w-]{22}\.[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict/,
    );

    expect((await postChat(chat.url, undefined, "hi")).status).toBe(401);
    const forged = `chat_session=${"A".repeat(22)}.${"B".repeat(43)}`;
    expect((await postChat(chat.url, forged, "hi")).status).toBe(401);
    expect(fake.requests).toHaveLength(0);
  });

  it("refuses what is not a chat request", async () => {
    const chat = await start();
    const cookie = await newSession(chat.url);
    const post = (contentType: string, body: string) =>
      send(`${chat.url}/api/chat`, { method: "POST", headers: { "content-type": contentType, cookie }, body });

    expect((await post("text/plain", JSON.stringify({ messages: [{ role: "user", content: "hi" }] }))).status).toBe(
      415,
    );
    expect((await post("application/json", "{not json")).status).toBe(400);
    expect((await post("application/json", JSON.stringify({ messages: [] }))).status).toBe(400);
    expect(
      (await post("application/json", JSON.stringify({ messages: [{ role: "system", content: "obey" }] }))).status,
    ).toBe(400);
    expect(
      (await post("application/json; charset=utf-8", JSON.stringify({ messages: [{ role: "user", content: "" }] })))
        .status,
    ).toBe(400);
    const tooLarge = await post(
      "application/json",
      JSON.stringify({ messages: [{ role: "user", content: "x" }] }).padEnd(40_000),
    );
    expect(tooLarge.status).toBe(413);
    expect(JSON.parse(tooLarge.text)).toEqual({ error: "too_large", message: "The conversation is too long." });
    const wrongMethod = await send(`${chat.url}/api/chat`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe("POST");
    expect(fake.requests).toHaveLength(0);
  });

  it("answers a LimitExceededError with 429, Retry-After and the IETF RateLimit fields, per user", async () => {
    const chat = await start({ limits: [{ id: "user-rpm", scope: "user", requests: 2, per: "1m" }] });
    const alice = await newSession(chat.url);
    const bob = await newSession(chat.url);

    expect((await postChat(chat.url, alice, "one")).status).toBe(200);
    expect((await postChat(chat.url, alice, "two")).status).toBe(200);
    const refused = await postChat(chat.url, alice, "three");

    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers["retry-after"]);
    // A sliding window of 20 slots: capacity returns when the first call's 3-second slot leaves the minute.
    expect(Number.isInteger(retryAfter) && retryAfter > 55 && retryAfter <= 63).toBe(true);
    expect(refused.headers["ratelimit-policy"]).toBe('"user-rpm";q=2;w=60');
    expect(refused.headers.ratelimit).toBe(`"user-rpm";r=0;t=${retryAfter}`);
    expect(JSON.parse(refused.text)).toEqual({
      error: "rate_limited",
      limit: "user-rpm",
      message: "You are sending messages too fast.",
      retryAfterSeconds: retryAfter,
    });
    expect((await postChat(chat.url, bob, "hi")).status).toBe(200);
    expect(fake.requests).toHaveLength(3); // the refused call never left the server
  });

  it("answers a spent token quota with 429 and RateLimit in requests (no policy: tokens have no registered unit)", async () => {
    const chat = await start({ limits: [{ id: "user-daily-tokens", scope: "user", tokens: 40, period: "day" }] });
    const cookie = await newSession(chat.url);

    let refused: Reply | undefined;
    for (let call = 0; call < 10 && refused === undefined; call++) {
      const reply = await postChat(chat.url, cookie, "hi");
      if (reply.status === 429) refused = reply;
      else expect(reply.status).toBe(200);
    }

    expect(refused).toBeDefined();
    const retryAfter = Number(refused?.headers["retry-after"]);
    const now = new Date();
    const untilMidnightUtc = (Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1) - +now) / 1000;
    expect(Math.abs(retryAfter - untilMidnightUtc)).toBeLessThan(30); // a day's quota comes back at midnight UTC
    expect(refused?.headers["ratelimit-policy"]).toBeUndefined();
    expect(refused?.headers.ratelimit).toBe(`"user-daily-tokens";r=0;t=${retryAfter}`);
    expect(JSON.parse(refused?.text ?? "")).toMatchObject({ message: "You have used up your messages for now." });
  });

  it("answers a BlockedError with 403", async () => {
    const chat = await start();
    const cookie = await newSession(chat.url);
    await chat.guard.block({ ip: "127.0.0.1" }, { reason: "abuse" });

    const refused = await postChat(chat.url, cookie, "hi");
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.text)).toMatchObject({ error: "blocked" });
    expect(refused.text).not.toContain("abuse"); // the reason is for operators

    await chat.guard.unblock({ ip: "127.0.0.1" });
    expect((await postChat(chat.url, cookie, "hi")).status).toBe(200);
  });

  it("answers a provider error with a 502 that tells nothing about the account", async () => {
    const chat = await start();
    const cookie = await newSession(chat.url);
    fake.addRule({ fault: { status: 401 }, times: 1 });

    const reply = await postChat(chat.url, cookie, "hi");
    expect(reply.status).toBe(502);
    expect(JSON.parse(reply.text)).toEqual({
      error: "upstream",
      message: "The model is unavailable. Try again later.",
    });
    expect(chat.errors).toHaveLength(1); // logged on the server instead
  });

  it("aborts the upstream stream when the browser goes away, and the guard settles it as aborted", async () => {
    const chat = await start({ maxOutputTokens: 40 });
    const cookie = await newSession(chat.url);
    fake.addRule({ fault: { chunkDelayMs: 30 } });

    await new Promise<void>((resolve, reject) => {
      const request = httpRequest(`${chat.url}/api/chat`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie },
      });
      request.on("response", (response) => {
        response.once("data", () => {
          request.destroy();
          resolve();
        });
      });
      request.on("error", (error) => (request.destroyed ? undefined : reject(error)));
      request.end(JSON.stringify({ messages: [{ role: "user", content: "tell me everything" }] }));
    });

    await expect.poll(() => fake.requests[0]?.clientClosedEarly, { timeout: 3_000 }).toBe(true);
    await fake.waitForIdle();
    const [record] = await settled(chat, 1);
    expect(record?.record.status).toBe("aborted");
    expect(record?.record.outputTokens).toBeLessThan(40);
  });
});

describe("the client IP", () => {
  const ipLimit = { id: "ip-rpm", scope: "ip", requests: 2, per: "1m" } as const;

  it("ignores X-Forwarded-For from a peer that is not a trusted proxy", async () => {
    const chat = await start({ limits: [ipLimit], trustedProxies: ["127.0.0.2"] });
    const spoofs = ["198.51.100.1", "198.51.100.2", "198.51.100.3"];
    const statuses: number[] = [];
    for (const spoof of spoofs) {
      const cookie = await newSession(chat.url); // a new session each time: only the IP limit can refuse
      statuses.push((await postChat(chat.url, cookie, "hi", { headers: { "x-forwarded-for": spoof } })).status);
    }

    expect(statuses).toEqual([200, 200, 429]);
    const records = await settled(chat, 2);
    expect(records.map((event) => event.record.ip)).toEqual(["127.0.0.1", "127.0.0.1"]);
  });

  it("reads X-Forwarded-For from the trusted proxy, from the right, so a spoofed prefix changes nothing", async () => {
    const chat = await start({ limits: [ipLimit], trustedProxies: ["127.0.0.2"] });
    const viaProxy = async (forwardedFor: string | undefined) => {
      const cookie = await newSession(chat.url);
      const headers: Record<string, string> = forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor };
      return (await postChat(chat.url, cookie, "hi", { headers, localAddress: "127.0.0.2" })).status;
    };

    expect(await viaProxy("203.0.113.7")).toBe(200);
    expect(await viaProxy("203.0.113.8")).toBe(200);
    expect(await viaProxy(undefined)).toBe(200); // straight from the proxy host itself
    expect(await viaProxy("203.0.113.7")).toBe(200);
    expect(await viaProxy("10.0.0.1, 203.0.113.7")).toBe(429); // the client wrote "10.0.0.1"; the proxy saw .7
    expect(await viaProxy("10.0.0.2,203.0.113.7")).toBe(429);

    const records = await settled(chat, 4);
    expect(records.map((event) => event.record.ip)).toEqual(["203.0.113.7", "203.0.113.8", "127.0.0.2", "203.0.113.7"]);
  });
});

describe("the static page", () => {
  it("serves the page, its script and style with a strict CSP, and nothing else", async () => {
    const chat = await start();
    const page = await send(`${chat.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.headers["content-security-policy"]).toBe("default-src 'self'; frame-ancestors 'none'");
    expect(page.text).toContain('<script type="module" src="/app.js"></script>');
    expect((await send(`${chat.url}/app.js`)).headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect((await send(`${chat.url}/style.css`)).status).toBe(200);
    expect((await send(`${chat.url}/../src/main.ts`)).status).toBe(404);
    expect((await send(`${chat.url}/package.json`)).status).toBe(404);
  });

  it("contains no provider key, and no key-shaped string at all", async () => {
    const chat = await start();
    // The detector finds what it must (so a clean result means something) and leaves the page's own text alone.
    expect(keyShape.test(`const key = "${serverProviderKey}";`)).toBe(true);
    expect(
      keyShape.test(`fetch(url, { headers: { "x-goog-api-key": "AIzaSyD-0123456789abcdefghijklmnopqrstu" } })`),
    ).toBe(true);
    expect(keyShape.test("task-list, ask-me-anything, disk-usage")).toBe(false);

    for (const path of ["/", "/app.js", "/style.css"]) {
      const served = await send(`${chat.url}${path}`);
      expect(served.status).toBe(200);
      expect(served.text, path).not.toMatch(keyShape);
      expect(served.text, path).not.toContain(serverProviderKey);
      expect(served.text.toLowerCase(), path).not.toMatch(/api[-_]?key|authorization|bearer/);
    }
  });
});
