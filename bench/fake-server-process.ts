// Runs the fake provider server in its own process, so its work does not share the event loop of the SDK calls being
// timed. The request log is emptied every second: a long run would otherwise keep every request body.
import { startFakeProviders } from "@tollgate/testing";

if (process.send === undefined) throw new Error("fake-server-process.ts runs as a child of fake-server.ts (fork)");

const fake = await startFakeProviders();
const resetTimer = setInterval(() => fake.reset(), 1_000);
process.on("message", (message: unknown) => {
  if (message !== "close") return;
  clearInterval(resetTimer);
  void fake.close().then(() => process.disconnect());
});
process.send({
  openaiBaseURL: fake.openaiBaseURL,
  anthropicBaseURL: fake.anthropicBaseURL,
  googleBaseUrl: fake.googleBaseUrl,
});
