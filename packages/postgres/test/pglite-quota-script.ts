// A script run twice by the PGlite folder test: it keeps its state in a folder, guards two model calls against a
// daily quota of 3 requests, and prints how many were admitted and refused.
import { PGlite } from "@electric-sql/pglite";
import { guardedClient, LimitExceededError } from "@tollgate/core";
import { createPostgresStore, migrate } from "../src/index";
import { loadOpenAI, testPrices } from "./openai-sdk";

const [dataDirectory = "", baseURL = ""] = process.argv.slice(2);
const database = new PGlite(dataDirectory);
await migrate(database);
const OpenAI = await loadOpenAI();
const guard = guardedClient({
  providers: { openai: new OpenAI({ apiKey: "sk-test-pglite", baseURL, maxRetries: 0 }) },
  store: createPostgresStore(database),
  prices: testPrices,
  limits: [{ id: "daily-requests", scope: "user", requests: 3, period: "day" }],
});
const { openai } = guard.for({ user: "script-user" });
let admitted = 0;
let refused = 0;
for (let call = 0; call < 2; call++) {
  try {
    await openai.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: `Hi from run at ${Date.now()}, call ${call}` }],
      max_tokens: 8,
    });
    admitted++;
  } catch (error) {
    if (!LimitExceededError.isInstance(error)) throw error;
    refused++;
  }
}
await guard.close();
await database.close();
process.stdout.write(`${JSON.stringify({ admitted, refused })}\n`);
