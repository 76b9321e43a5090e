import { Redis } from "ioredis";
import OpenAI from "openai";
import { type ChatHandler, createChatHandler } from "./chat-handler";

/** What one cold start creates: the handler, and the Redis connection to close on shutdown. */
export interface ChatInstance {
  chat: ChatHandler;
  redis: Redis;
}

/** The variables `createChatFromEnvironment` reads (see the README). */
export type ChatEnvironment = Readonly<Record<string, string | undefined>>;

/**
 * The deployable chat function, configured from environment variables: one Redis connection (named after the key
 * prefix, so `CLIENT LIST` shows which function holds it), one store, one guard. Throws when a required variable is
 * missing. A Redis that is down does not make it fail: the calls follow `TOLLGATE_ON_STORE_ERROR`.
 */
export function createChatFromEnvironment(
  environment: ChatEnvironment = process.env,
  log: (message: string, detail?: unknown) => void = (message, detail) => console.warn(message, detail ?? ""),
): ChatInstance {
  const userTokenSecret = environment.USER_TOKEN_SECRET;
  if (userTokenSecret === undefined || userTokenSecret === "") throw new Error("Set USER_TOKEN_SECRET");
  const prefix = environment.TOLLGATE_REDIS_PREFIX ?? "chat:";

  const redis = new Redis(environment.REDIS_URL ?? "redis://127.0.0.1:6379", {
    enableOfflineQueue: false, // required by @tollgate/redis: a command must fail now, not replay after a reconnect
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    connectionName: `tollgate:${prefix}`.replace(/\s/g, "_"),
  });
  let lastRedisError = "";
  redis.on("error", (error: Error) => {
    // ioredis retries the connection in the background and reports every failed attempt: log each new cause once.
    if (error.message !== lastRedisError) log(`redis: ${error.message}`);
    lastRedisError = error.message;
  });
  redis.on("ready", () => {
    lastRedisError = "";
  });

  const chat = createChatHandler({
    // The key stays in this process: the SDK sends it to the provider and nowhere else.
    openai: new OpenAI({
      maxRetries: 1,
      timeout: 25_000,
      ...(environment.OPENAI_API_KEY === undefined ? {} : { apiKey: environment.OPENAI_API_KEY }),
      ...(environment.OPENAI_BASE_URL === undefined ? {} : { baseURL: environment.OPENAI_BASE_URL }),
    }),
    redis,
    prefix,
    onStoreError: environment.TOLLGATE_ON_STORE_ERROR === "allow" ? "allow" : "deny",
    userTokenSecret,
    log,
    ...(environment.CLIENT_ADDRESS_HEADER === undefined
      ? {}
      : { clientAddressHeader: environment.CLIENT_ADDRESS_HEADER }),
  });
  return { chat, redis };
}
