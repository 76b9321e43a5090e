import { Redis } from "ioredis";
import OpenAI from "openai";
import { createChatHandler } from "./chat-handler";

// The deployable function. Everything at module scope runs once per cold start: one Redis connection, one store, one
// guard, reused by every invocation the instance serves. Configuration comes from the environment; the OpenAI client
// reads OPENAI_API_KEY (and OPENAI_BASE_URL) itself.

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`Set ${name}`);
  return value;
}

export const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", {
  enableOfflineQueue: false, // required by @tollgate/redis: a command must fail now, not replay after a reconnect
  maxRetriesPerRequest: 1,
  connectTimeout: 2_000,
});
let lastRedisError = "";
redis.on("error", (error: Error) => {
  // ioredis retries the connection in the background and reports every failed attempt: log each new cause once.
  if (error.message !== lastRedisError) console.warn(`redis: ${error.message}`);
  lastRedisError = error.message;
});
redis.on("ready", () => {
  lastRedisError = "";
});

const onStoreError = process.env.TOLLGATE_ON_STORE_ERROR === "allow" ? "allow" : "deny";

const handler = createChatHandler({
  openai: new OpenAI({ maxRetries: 1, timeout: 25_000 }),
  redis,
  prefix: process.env.TOLLGATE_REDIS_PREFIX ?? "chat:",
  onStoreError,
  userTokenSecret: required("USER_TOKEN_SECRET"),
  ...(process.env.CLIENT_ADDRESS_HEADER === undefined
    ? {}
    : { clientAddressHeader: process.env.CLIENT_ADDRESS_HEADER }),
});

export default handler;
