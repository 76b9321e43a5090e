import type { Guard } from "@tollgate/core";
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import type OpenAI from "openai";
import type { ChatCompletionChunk } from "openai/resources/chat/completions";
import { parseMessages } from "./chat-messages";
import { clientAddress, trustedProxyList } from "./client-address";
import { errorReply } from "./error-reply";
import { createSessionToken, readCookie, sessionCookie, sessionCookieName, verifySessionToken } from "./session";
import { staticAssets } from "./static-assets";

export interface ChatAppOptions {
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

const securityHeaders = {
  "content-security-policy": "default-src 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/**
 * The chat backend as an Express 5 app: the page (`GET /`, `/app.js`, `/style.css`) and `POST /api/chat`, which
 * streams a guarded completion as server-sent events. `app.listen(port)` or `http.createServer(app)` serves it.
 */
export function createChatApp(options: ChatAppOptions): Express {
  const trusted = trustedProxyList(options.trustedProxies ?? []);
  const model = options.model ?? "gpt-4o-mini";
  const maxOutputTokens = options.maxOutputTokens ?? 512;
  const secureCookies = options.secureCookies ?? true;
  const onError = options.onError ?? ((error: unknown) => console.error(error));
  const parseJson = express.json({ limit: maxBodyBytes });

  const app = express();
  app.disable("x-powered-by");
  app.disable("etag");
  // Left off on purpose: with a list, Express's `req.ip` returns whatever non-address text sits in X-Forwarded-For
  // left of your proxies, and keeps `::ffff:` prefixes. `clientAddress` below is stricter; `req.ip` stays the peer.
  app.set("trust proxy", false);
  app.use((_request, response, next) => {
    response.set(securityHeaders);
    next();
  });

  const sessionUser = (request: Request) =>
    verifySessionToken(options.sessionSecret, readCookie(request.headers.cookie, sessionCookieName));

  app.post("/api/chat", async (request, response) => {
    const user = sessionUser(request);
    if (user === undefined) {
      response.status(401).json({ error: "no_session", message: "Reload the page." });
      return;
    }
    // A JSON content type cannot be sent cross-site without a CORS preflight, which this server never grants.
    if (!request.is("application/json")) {
      response.status(415).json({ error: "unsupported_media_type", message: "Send application/json." });
      return;
    }
    await new Promise<void>((resolve, reject) =>
      parseJson(request, response, (error?: unknown) => (error === undefined ? resolve() : reject(error))),
    );
    const messages = parseMessages(request.body as unknown);
    if (messages === undefined) {
      response.status(400).json({ error: "bad_request", message: "Expected { messages: [{ role, content }] }." });
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
      response.status(reply.status).set(reply.headers).json(reply.body);
      return;
    }

    response.status(200).set({
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no", // nginx: do not buffer the stream
    });
    response.flushHeaders();
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
  });
  app.all("/api/chat", (_request, response) => {
    response.status(405).set("allow", "POST").json({ error: "method_not_allowed" });
  });

  for (const [path, asset] of staticAssets) {
    app.get(path, (request, response) => {
      response.set({ "content-type": asset.contentType, "cache-control": "no-cache" });
      // The page issues the session; the API only accepts sessions it issued.
      if (path === "/" && sessionUser(request) === undefined) {
        response.set("set-cookie", sessionCookie(createSessionToken(options.sessionSecret).token, secureCookies));
      }
      response.send(asset.body);
    });
  }
  app.get("/favicon.ico", (_request, response) => {
    response.status(204).end(); // no icon, and no 404 in the console
  });

  app.use((_request, response) => {
    response.status(404).json({ error: "not_found" });
  });
  // Last: body-parser's refusals (too large, not JSON) keep their 4xx; anything else is a bug, logged, no detail.
  app.use((error: unknown, _request: Request, response: Response, _next: NextFunction) => {
    const status = clientErrorStatus(error);
    if (status === undefined) onError(error);
    if (response.headersSent) {
      response.destroy();
      return;
    }
    if (status === 413) response.status(413).json({ error: "too_large", message: "The conversation is too long." });
    else if (status !== undefined) response.status(status).json({ error: "bad_request" });
    else response.status(500).json({ error: "internal" });
  });
  return app;
}

/** The 4xx status an error from Express's own middleware carries (body-parser sets `status`), if any. */
function clientErrorStatus(error: unknown): number | undefined {
  const status = typeof error === "object" && error !== null ? (error as { status?: unknown }).status : undefined;
  return typeof status === "number" && status >= 400 && status < 500 ? status : undefined;
}
