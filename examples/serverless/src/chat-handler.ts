import { createHmac, timingSafeEqual } from "node:crypto";
import {
  BlockedError,
  type GuardEvent,
  guardedClient,
  type Limit,
  LimitExceededError,
  rateLimitHeaders,
  StoreUnavailableError,
} from "@tollgate/core";
import { createRedisStore } from "@tollgate/redis";
import type { Redis } from "ioredis";
import OpenAI from "openai";
import { whenRedisReady } from "./redis-ready";

/** What the platform knows about the invocation, beyond the `Request`. Every field is optional. */
export interface HandlerContext {
  /**
   * The client's address as the platform saw it (Netlify's `context.ip`, API Gateway's `requestContext.http.sourceIp`,
   * the socket's peer in the Node adapter).
   */
  clientAddress?: string;
  /**
   * The user the platform has already authenticated, e.g. the `sub` claim API Gateway's JWT authorizer verified.
   * Set only by an adapter from the platform's own data, never from a request header. Without it the handler
   * verifies the `Authorization: Bearer` token itself.
   */
  user?: string;
  /** Keeps the function alive for work after the response (Vercel, Netlify, Cloudflare all have one). */
  waitUntil?: (promise: Promise<unknown>) => void;
}

export type ChatHandler = (request: Request, context?: HandlerContext) => Promise<Response>;

export interface ChatHandlerConfig {
  openai: OpenAI;
  /** One ioredis client per cold start, created with `enableOfflineQueue: false` (the store refuses others). */
  redis: Redis;
  /** Key prefix in Redis, shared by every instance of this function. Default `"chat:"`. */
  prefix?: string;
  limits?: readonly Limit[];
  /**
   * Redis unreachable or too slow (`storeTimeoutMs`):
   * - `"deny"` (default): no admission, no call: the function answers 503. Nothing is spent unmetered, but chat is
   *   down for as long as Redis is.
   * - `"allow"`: calls go through without being counted (a `call.unmetered` event each). Chat stays up, and for that
   *   time no limit holds: a leaked token or a scripted client spends freely until Redis is back.
   */
  onStoreError?: "deny" | "allow";
  /** Longest wait for Redis per call, so a sick Redis costs little latency. Default 500 ms. */
  storeTimeoutMs?: number;
  /** Verifies the `Authorization: Bearer` token and names the user (see `signUserToken`). */
  userTokenSecret: string;
  /**
   * The header the platform sets to the client's address, overwriting what the client sent: `x-real-ip` on Vercel,
   * `x-nf-client-connection-ip` on Netlify, `cf-connecting-ip` on Cloudflare. Read only when the context has no
   * `clientAddress`. Never name a header your platform passes through from the client.
   */
  clientAddressHeader?: string;
  model?: string;
  maxOutputTokens?: number;
  /** Errors and store events worth an operator's attention. Default `console.warn`. */
  log?: (message: string, detail?: unknown) => void;
}

export const defaultChatLimits: readonly Limit[] = [
  { id: "user-rpm", scope: "user", requests: 20, per: "1m" },
  { id: "user-daily-usd", scope: "user", usd: 1, period: "day" },
  { id: "ip-rpm", scope: "ip", requests: 60, per: "1m" },
  { id: "monthly-budget", scope: "global", usd: 500, period: "month" },
];

const maxBodyBytes = 32 * 1024;

/**
 * Builds the handler. Call it once, at module scope, so each cold start creates one guard, one store and one Redis
 * connection, and every invocation the instance serves reuses them. Per request it only runs `guard.for()`.
 */
export function createChatHandler(config: ChatHandlerConfig): ChatHandler {
  const log = config.log ?? ((message: string, detail?: unknown) => console.warn(message, detail ?? ""));
  const onEvent = (event: GuardEvent) => {
    if (event.type === "store.error") log(`tollgate: store ${event.operation} failed`, event.error.message);
    if (event.type === "call.unmetered") log("tollgate: call let through unmetered", event.reason);
  };
  const guard = guardedClient({
    providers: { openai: config.openai },
    store: createRedisStore(config.redis, { prefix: config.prefix ?? "chat:", commandTimeoutMs: 400 }),
    limits: config.limits ?? defaultChatLimits,
    onStoreError: config.onStoreError ?? "deny",
    storeTimeoutMs: config.storeTimeoutMs ?? 500,
    onEvent,
  });
  // ioredis connects in the background. With the offline queue off, a command sent before the connection is up
  // fails at once, so the first invocation of a cold start waits for it (once, briefly); later ones never wait.
  const connected = whenRedisReady(config.redis, 1_000);
  const model = config.model ?? "gpt-4o-mini";
  const maxOutputTokens = config.maxOutputTokens ?? 512;

  return async function handleChat(request, context = {}) {
    if (request.method !== "POST") return json(405, { error: "method_not_allowed" }, { allow: "POST" });
    const user = context.user ?? verifyUserToken(config.userTokenSecret, request.headers.get("authorization"));
    if (user === undefined) return json(401, { error: "unauthorized" }, { "www-authenticate": "Bearer" });
    const ip =
      context.clientAddress ??
      (config.clientAddressHeader === undefined ? undefined : request.headers.get(config.clientAddressHeader)?.trim());
    if (ip === undefined || ip === "") {
      log("chat: no client address; set clientAddressHeader for this platform");
      return json(500, { error: "misconfigured" });
    }
    const messages = parseMessages(await readJson(request));
    if (messages === undefined) return json(400, { error: "bad_request" });

    await connected;
    const { openai } = guard.for({ user, ip });
    try {
      const completion = await openai.chat.completions.create({ model, messages, max_tokens: maxOutputTokens });
      return json(200, {
        reply: completion.choices[0]?.message.content ?? "",
        usage: { inputTokens: completion.usage?.prompt_tokens, outputTokens: completion.usage?.completion_tokens },
      });
    } catch (error) {
      return errorResponse(error, log);
    } finally {
      // The settlement (true usage into Redis) finishes after the reply: let the platform keep the instance alive
      // for it, or wait for it here where there is no `waitUntil`, so a frozen instance never leaves it pending.
      const settlements = guard.close();
      if (context.waitUntil === undefined) await settlements;
      else context.waitUntil(settlements);
    }
  };
}

function errorResponse(error: unknown, log: (message: string, detail?: unknown) => void): Response {
  if (LimitExceededError.isInstance(error)) {
    return json(429, { error: "rate_limited", limit: error.limitId }, rateLimitHeaders(error));
  }
  if (BlockedError.isInstance(error)) return json(403, { error: "blocked" });
  if (StoreUnavailableError.isInstance(error)) {
    log("chat: Redis unavailable, call refused (onStoreError: deny)", error.message);
    return json(503, { error: "unavailable" }, { "retry-after": "5" });
  }
  log("chat: call failed", error);
  if (error instanceof OpenAI.APIError) return json(502, { error: "upstream" });
  return json(500, { error: "internal" });
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}

async function readJson(request: Request): Promise<unknown> {
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > maxBodyBytes) return undefined;
  const text = await request.text();
  if (text.length > maxBodyBytes) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function parseMessages(body: unknown): { role: "user" | "assistant"; content: string }[] | undefined {
  const messages = typeof body === "object" && body !== null ? (body as { messages?: unknown }).messages : undefined;
  if (!Array.isArray(messages) || messages.length === 0 || messages.length > 40) return undefined;
  const parsed: { role: "user" | "assistant"; content: string }[] = [];
  for (const message of messages as unknown[]) {
    const { role, content } = (typeof message === "object" && message !== null ? message : {}) as {
      role?: unknown;
      content?: unknown;
    };
    if ((role !== "user" && role !== "assistant") || typeof content !== "string") return undefined;
    if (content.length === 0 || content.length > 4_000) return undefined;
    parsed.push({ role, content });
  }
  return parsed;
}

/**
 * A stand-in for your auth: `<userId>.<HMAC-SHA256(secret, userId)>`. In production verify your identity provider's
 * JWT here instead; what matters is that the user id comes from a credential, not from the request body.
 */
export function signUserToken(secret: string, userId: string): string {
  return `${userId}.${createHmac("sha256", secret).update(userId).digest("base64url")}`;
}

function verifyUserToken(secret: string, authorization: string | null): string | undefined {
  const token = /^Bearer ([\w.@+-]{1,64})\.([\w-]{43})$/.exec(authorization ?? "");
  if (token === null) return undefined;
  const [, userId = "", signature = ""] = token;
  const expected = Buffer.from(signUserToken(secret, userId).slice(userId.length + 1));
  return timingSafeEqual(expected, Buffer.from(signature)) ? userId : undefined;
}
