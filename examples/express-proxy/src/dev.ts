import { randomBytes } from "node:crypto";
import { guardedClient, type Limit } from "@tollgate/core";
import { startFakeProviders } from "@tollgate/testing";
import OpenAI from "openai";
import { createChatApp } from "./chat-app";

// Try the page without a key: the real OpenAI SDK talks to Tollgate's fake provider on loopback, which streams
// "w1 w2 …" slowly enough to watch. The limit is low so the 429 shows up after three messages.
const fake = await startFakeProviders({ rules: [{ fault: { chunkDelayMs: 80 } }] });
const limits: Limit[] = [
  { id: "user-rpm", scope: "user", requests: 3, per: "1m" },
  { id: "ip-rpm", scope: "ip", requests: 30, per: "1m" },
];
const guard = guardedClient({
  providers: { openai: new OpenAI({ apiKey: "sk-fake-dev", baseURL: fake.openaiBaseURL, maxRetries: 0 }) },
  limits,
});
const app = createChatApp({
  guard,
  sessionSecret: randomBytes(32).toString("base64url"),
  secureCookies: false,
  maxOutputTokens: 24,
});
const port = Number(process.env.PORT ?? 3000);
const server = app.listen(port, "127.0.0.1", (error) => {
  if (error) throw error;
  console.log(`chat on http://127.0.0.1:${port} (fake provider)`);
});

process.once("SIGINT", () => {
  server.close();
  server.closeAllConnections();
  void Promise.all([guard.close(), fake.close()]).then(() => process.exit(0));
});
