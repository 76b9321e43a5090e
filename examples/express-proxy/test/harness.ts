import { randomBytes } from "node:crypto";
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type GuardEvent, guardedClient, type Limit } from "@tollgate/core";
import type { FakeProviders } from "@tollgate/testing";
import OpenAI from "openai";
import { createChatApp } from "../src/chat-app";

/**
 * The provider key the server holds in these tests: it must never reach a browser. Shaped like a real OpenAI project
 * key (`sk-proj-…T3BlbkFJ…`) so `tollgate scan` would find it, and made up at run time so no key-shaped string sits
 * in this repository for a scanner to trip over.
 */
export const serverProviderKey = `sk-proj-${randomBytes(56).toString("base64url")}T3BlbkFJ${randomBytes(56).toString("base64url")}`;

export interface RunningChat {
  url: string;
  guard: ReturnType<typeof createGuard>;
  events: GuardEvent[];
  errors: unknown[];
  close(): Promise<void>;
}

function createGuard(fake: FakeProviders, limits: readonly Limit[], events: GuardEvent[]) {
  return guardedClient({
    providers: { openai: new OpenAI({ apiKey: serverProviderKey, baseURL: fake.openaiBaseURL, maxRetries: 0 }) },
    limits,
    onEvent: (event) => events.push(event),
  });
}

/** The chat app on a free port of 127.0.0.1, with its own guard and memory store. */
export async function startChat(
  fake: FakeProviders,
  options: { limits?: readonly Limit[]; trustedProxies?: readonly string[]; maxOutputTokens?: number } = {},
): Promise<RunningChat> {
  const events: GuardEvent[] = [];
  const errors: unknown[] = [];
  const guard = createGuard(fake, options.limits ?? [], events);
  const app = createChatApp({
    guard,
    sessionSecret: "test-session-secret-that-is-long-enough",
    trustedProxies: options.trustedProxies ?? [],
    maxOutputTokens: options.maxOutputTokens ?? 6,
    secureCookies: false,
    onError: (error) => errors.push(error),
  });
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    guard,
    events,
    errors,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await guard.close();
    },
  };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** The source address of the connection: `127.0.0.2` plays the trusted reverse proxy. Default `127.0.0.1`. */
  localAddress?: string;
}

/** One HTTP exchange with `node:http`, which (unlike `fetch`) can pick the source address. */
export function send(url: string, options: SendOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      {
        method: options.method ?? "GET",
        headers: options.headers ?? {},
        localAddress: options.localAddress ?? "127.0.0.1",
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(options.body);
  });
}

/** A fresh visitor: loads the page and keeps the session cookie it sets. */
export async function newSession(chatUrl: string): Promise<string> {
  const page = await send(`${chatUrl}/`);
  const cookie = page.headers["set-cookie"]?.[0];
  if (cookie === undefined) throw new Error("the page set no session cookie");
  return cookie.split(";")[0]!;
}

/** `POST /api/chat` with one user message. */
export function postChat(
  chatUrl: string,
  cookie: string | undefined,
  content: string,
  options: Omit<SendOptions, "method" | "body"> = {},
): Promise<Reply> {
  return send(`${chatUrl}/api/chat`, {
    ...options,
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(cookie === undefined ? {} : { cookie }),
      ...options.headers,
    },
    body: JSON.stringify({ messages: [{ role: "user", content }] }),
  });
}

export interface ServerSentEvent {
  name: string;
  data: Record<string, unknown>;
}

export function parseEvents(text: string): ServerSentEvent[] {
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      let name = "message";
      let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        if (line.startsWith("data:")) data += line.slice(5).trim();
      }
      return { name, data: JSON.parse(data) as Record<string, unknown> };
    });
}

/** Provider-key shapes: OpenAI (`sk-…`, `sk-proj-…`), Anthropic (`sk-ant-…`), Google (`AIza…`). */
export const keyShape = /(?:^|[^A-Za-z0-9])(sk-[A-Za-z0-9_-]{16,}|AIza[A-Za-z0-9_-]{30,})/;
