import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { BlockedError, type Guard, LimitExceededError, StoreUnavailableError, TollgateError } from "@tollgate/core";
import OpenAI from "openai";
import type { ChatCompletionChunk, ChatCompletionMessageParam } from "openai/resources/chat/completions";
import { clientAddress, trustedProxyList } from "./client-address";
import { createSessionToken, readCookie, sessionCookie, sessionCookieName, verifySessionToken } from "./session";

export interface ChatServerOptions {
  /** A guard around the OpenAI client that holds the provider key. The key never leaves this process. */
  guard: Guard<{ openai: OpenAI }>;
  /** Signs session cookies. At least 32 random characters, the same on every instance. */
  sessionSecret: string;
  /** Addresses or CIDR ranges of your own reverse proxies; only their `X-Forwarded-For` is believed. */
  trustedProxies?: readonly string[];
  /** The model every chat uses: the browser does not get to pick an expensive one. Default `gpt-4o-mini`. */
  model?: string;
  /** Output cap of each reply (so the worst case reserved per message is small). Default 512. */
  maxOutputTokens?: number;
  /** Add `Secure` to the session cookie (serve over HTTPS). Default `true`. */
  secureCookies?: boolean;
  /** Unexpected errors (bugs, provider outages). Default `console.error`. */
  onError?: (error: unknown) => void;
}

const maxBodyBytes = 32 * 1024;
const maxMessages = 40;
const maxMessageCharacters = 4_000;

const staticFiles = new Map(
  [
    ["/", "index.html", "text/html; charset=utf-8"],
    ["/app.js", "app.js", "text/javascript; charset=utf-8"],
    ["/style.css", "style.css", "text/css; charset=utf-8"],
  ].map(([path, file, contentType]) => [
    path,
    { body: readFileSync(new URL(`../public/${file}`, import.meta.url)), contentType: contentType ?? "" },
  ]),
);

const securityHeaders = {
  "content-security-policy": "default-src 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/** The chat backend: a static page and `POST /api/chat`, which streams a guarded completion as server-sent events. */
export function createChatServer(options: ChatServerOptions): Server {
  const trusted = trustedProxyList(options.trustedProxies ?? []);
  const model = options.model ?? "gpt-4o-mini";
  const maxOutputTokens = options.maxOutputTokens ?? 512;
  const secureCookies = options.secureCookies ?? true;
  const onError = options.onError ?? ((error: unknown) => console.error(error));

  async function chat(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const user = verifySessionToken(options.sessionSecret, readCookie(request.headers.cookie, sessionCookieName));
    if (user === undefined) {
      sendJson(response, { status: 401, body: { error: "no_session", message: "Reload the page." } });
      return;
    }
    // A JSON content type cannot be sent cross-site without a CORS preflight, which this server never grants.
    if (!request.headers["content-type"]?.startsWith("application/json")) {
      sendJson(response, { status: 415, body: { error: "unsupported_media_type", message: "Send application/json." } });
      return;
    }
    const body = await readBody(request);
    const messages = body === undefined ? undefined : parseMessages(body);
    if (messages === undefined) {
      const problem = { error: "bad_request", message: "Expected { messages: [{ role, content }] }." };
      sendJson(response, { status: 400, body: problem });
      return;
    }
    const ip = clientAddress(request.socket.remoteAddress, request.headers["x-forwarded-for"], trusted);
    const { openai } = options.guard.for({ user, ip });

    // The browser going away aborts the upstream call; the guard settles what was streamed until then.
    const upstream = new AbortController();
    response.on("close", () => {
      if (!response.writableFinished) upstream.abort();
    });

    let stream: AsyncIterable<ChatCompletionChunk>;
    try {
      // Admission happens here, before anything is sent upstream or to the browser: a refusal is a clean 4xx.
      stream = await openai.chat.completions.create(
        { model, messages, max_tokens: maxOutputTokens, stream: true },
        { signal: upstream.signal },
      );
    } catch (error) {
      if (upstream.signal.aborted) return;
      const reply = errorReply(error);
      if (reply.unexpected) onError(error);
      sendJson(response, reply);
      return;
    }

    response.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no", // nginx: do not buffer the stream
      ...securityHeaders,
    });
    try {
      for await (const chunk of stream) {
        const text = chunk.choices[0]?.delta.content;
        if (text) response.write(`data: ${JSON.stringify({ text })}\n\n`);
      }
      response.end("event: done\ndata: {}\n\n");
    } catch (error) {
      if (upstream.signal.aborted) return;
      onError(error);
      response.end(`event: error\ndata: ${JSON.stringify({ message: "The reply stopped early. Try again." })}\n\n`);
    }
  }

  function page(request: IncomingMessage, response: ServerResponse, path: string): void {
    if (path === "/favicon.ico") {
      response.writeHead(204, securityHeaders).end(); // no icon, and no 404 in the console
      return;
    }
    const file = staticFiles.get(path);
    if (file === undefined) {
      sendJson(response, { status: 404, body: { error: "not_found" } });
      return;
    }
    const headers: Record<string, string> = {
      "content-type": file.contentType,
      "cache-control": "no-cache",
      ...securityHeaders,
    };
    const hasSession =
      verifySessionToken(options.sessionSecret, readCookie(request.headers.cookie, sessionCookieName)) !== undefined;
    if (path === "/" && !hasSession) {
      headers["set-cookie"] = sessionCookie(createSessionToken(options.sessionSecret).token, secureCookies);
    }
    response.writeHead(200, headers).end(file.body);
  }

  return createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    const route =
      path === "/api/chat"
        ? request.method === "POST"
          ? chat(request, response)
          : sendJson(response, { status: 405, body: { error: "method_not_allowed" }, headers: { allow: "POST" } })
        : request.method === "GET"
          ? page(request, response, path)
          : sendJson(response, { status: 405, body: { error: "method_not_allowed" }, headers: { allow: "GET" } });
    Promise.resolve(route).catch((error: unknown) => {
      onError(error);
      if (!response.headersSent) sendJson(response, { status: 500, body: { error: "internal" } });
      else response.destroy();
    });
  });
}

interface JsonReply {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

/**
 * What a failed call means to the browser. Refusals are expected and say what to do; anything else is logged and
 * answered without detail (a provider error says nothing about the account or the key).
 */
function errorReply(error: unknown): JsonReply & { unexpected: boolean } {
  if (LimitExceededError.isInstance(error)) {
    const retryAfterMs =
      error.retryAfterMs ?? (error.resetAt === undefined ? undefined : error.resetAt.getTime() - Date.now());
    const retryAfterSeconds = retryAfterMs === undefined ? undefined : Math.max(1, Math.ceil(retryAfterMs / 1000));
    return {
      status: 429,
      body: {
        error: "rate_limited",
        limit: error.limitId,
        message: "Too many messages.",
        ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
      },
      headers: retryAfterSeconds === undefined ? {} : { "retry-after": String(retryAfterSeconds) },
      unexpected: false,
    };
  }
  if (BlockedError.isInstance(error)) {
    return { status: 403, body: { error: "blocked", message: "Chat is disabled for you." }, unexpected: false };
  }
  if (StoreUnavailableError.isInstance(error)) {
    const body = { error: "unavailable", message: "Try again shortly." };
    return { status: 503, body, headers: { "retry-after": "5" }, unexpected: true };
  }
  if (error instanceof OpenAI.APIError) {
    const body = { error: "upstream", message: "The model is unavailable. Try again later." };
    return { status: 502, body, unexpected: true };
  }
  const body = TollgateError.isInstance(error) ? { error: "internal", code: error.code } : { error: "internal" };
  return { status: 500, body, unexpected: true };
}

function sendJson(response: ServerResponse, reply: JsonReply): void {
  response
    .writeHead(reply.status, { "content-type": "application/json", ...securityHeaders, ...reply.headers })
    .end(JSON.stringify(reply.body));
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) return undefined;
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}

/** Only user and assistant turns with text: the system prompt, model and output cap are the server's. */
function parseMessages(body: unknown): ChatCompletionMessageParam[] | undefined {
  const messages = typeof body === "object" && body !== null ? (body as { messages?: unknown }).messages : undefined;
  if (!Array.isArray(messages) || messages.length === 0 || messages.length > maxMessages) return undefined;
  const parsed: ChatCompletionMessageParam[] = [];
  for (const message of messages as unknown[]) {
    if (typeof message !== "object" || message === null) return undefined;
    const { role, content } = message as { role?: unknown; content?: unknown };
    if ((role !== "user" && role !== "assistant") || typeof content !== "string") return undefined;
    if (content.length === 0 || content.length > maxMessageCharacters) return undefined;
    parsed.push({ role, content });
  }
  return parsed;
}
