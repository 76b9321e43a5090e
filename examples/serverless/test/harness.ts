import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { FakeProviders } from "@tollgate/testing";
import { Redis } from "ioredis";
import OpenAI from "openai";
import { type ChatHandler, type ChatHandlerConfig, createChatHandler, signUserToken } from "../src/chat-handler";

export const secret = "test-user-token-secret";
/** CI provides Redis here; `REDIS_URL` points the suite elsewhere. */
export const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** Redis is required in CI (`CI=true`): there a missing server fails the suite. Elsewhere the suite is skipped. */
async function redisIsUp(): Promise<boolean> {
  const probe = new Redis(redisUrl, { lazyConnect: true, retryStrategy: () => null, connectTimeout: 1_000 });
  probe.on("error", () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}
export const redisUp = await redisIsUp();
if (!redisUp && process.env.CI === "true") {
  throw new Error(`Redis is not reachable at ${redisUrl}; CI must provide it (see .ci/run)`);
}

const clients: Redis[] = [];

/** A client as the function makes one (no offline queue), closed by `disconnectRedisClients`. */
export function redisClient(url = redisUrl): Redis {
  const client = new Redis(url, { enableOfflineQueue: false, retryStrategy: () => 100 });
  client.on("error", () => undefined);
  clients.push(client);
  return client;
}

export function disconnectRedisClients(): void {
  for (const client of clients.splice(0)) client.disconnect();
}

/** Every instance of one deployed function shares a prefix; every test gets its own. */
export const newPrefix = () => `example-serverless:${randomUUID()}:`;

/** One cold start: its own Redis connection, guard and store, on the prefix all instances of the function share. */
export function coldStart(
  fake: FakeProviders,
  prefix: string,
  overrides: Partial<ChatHandlerConfig> = {},
): { handler: ChatHandler; logs: string[] } {
  const logs: string[] = [];
  const handler = createChatHandler({
    openai: new OpenAI({ apiKey: "sk-test-serverless", baseURL: fake.openaiBaseURL, maxRetries: 0 }),
    redis: redisClient(),
    prefix,
    userTokenSecret: secret,
    maxOutputTokens: 5,
    log: (message) => logs.push(message),
    ...overrides,
  });
  return { handler, logs };
}

export function chatRequest(
  user: string | undefined,
  content = "Hello",
  headers: Record<string, string> = {},
): Request {
  return new Request("https://chat.example/api/chat", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(user === undefined ? {} : { authorization: `Bearer ${signUserToken(secret, user)}` }),
      ...headers,
    },
    body: JSON.stringify({ messages: [{ role: "user", content }] }),
  });
}

/** A port nothing listens on: Redis "down". */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** How many connections Redis has open under this client name (`CLIENT LIST`): one per cold start. */
export async function connectionsNamed(name: string): Promise<number> {
  const probe = new Redis(redisUrl);
  try {
    const list = String(await probe.client("LIST"));
    return list.split("\n").filter((line) => line.includes(` name=${name} `)).length;
  } finally {
    probe.disconnect();
  }
}
