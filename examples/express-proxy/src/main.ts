import { guardedClient } from "@tollgate/core";
import OpenAI from "openai";
import { createChatApp } from "./chat-app";
import { chatLimits } from "./limits";

// Production entry. Configuration comes from the environment; the OpenAI client reads OPENAI_API_KEY (and
// OPENAI_BASE_URL) itself, so the key exists only in this process.
const sessionSecret = process.env.SESSION_SECRET;
if (sessionSecret === undefined || sessionSecret.length < 32) {
  throw new Error("Set SESSION_SECRET to at least 32 random characters (the same on every instance)");
}

// One memory store: fine for one process. With several instances, pass `store: createRedisStore(redis)` from
// @tollgate/redis so they share the counters (see examples/serverless).
const guard = guardedClient({ providers: { openai: new OpenAI() }, limits: chatLimits });

const app = createChatApp({
  guard,
  sessionSecret,
  trustedProxies: (process.env.TRUSTED_PROXIES ?? "").split(",").filter((entry) => entry.trim() !== ""),
  secureCookies: process.env.INSECURE_COOKIES !== "1",
});

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? "127.0.0.1";
const server = app.listen(port, host, (error) => {
  if (error) throw error;
  console.log(`chat on http://${host}:${port}`);
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    server.close();
    server.closeIdleConnections();
    // Waits for the settlements of calls that just ended, so their usage is recorded.
    void guard.close().then(() => process.exit(0));
  });
}
