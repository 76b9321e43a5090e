import { startFakeProviders } from "@tollgate/testing";

// A stand-in for OpenAI to try the script without a key: Tollgate's fake provider server on loopback. It answers
// "w1 w2 …" with exact usage, after `LATENCY_MS` (default 200) so there is time to press Ctrl-C.
const fake = await startFakeProviders({ rules: [{ fault: { latencyMs: Number(process.env.LATENCY_MS ?? 200) } }] });
console.log(`fake OpenAI on ${fake.openaiBaseURL}; in another shell:\n`);
console.log(
  `  OPENAI_BASE_URL=${fake.openaiBaseURL} OPENAI_API_KEY=sk-fake pnpm batch --input prompts.example.jsonl\n`,
);
process.once("SIGINT", () => void fake.close().then(() => process.exit(0)));
