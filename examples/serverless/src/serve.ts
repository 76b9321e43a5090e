import { createServer } from "node:http";
import handler from "./handler";
import { chatInstance } from "./instance";
import { toNodeListener } from "./node-adapter";

// The same function on a plain Node 20 server, for local runs and for hosts that run Node processes.
const listener = toNodeListener(handler);
const server = createServer(listener);
const port = Number(process.env.PORT ?? 3000);
server.listen(port, process.env.HOST ?? "127.0.0.1", () => console.log(`POST http://127.0.0.1:${port}/api/chat`));

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    server.close();
    server.closeIdleConnections();
    void Promise.allSettled(listener.pending()).then(async () => {
      // Settlements are done; close the Redis connection if an invocation opened one.
      const instance = await chatInstance.ifStarted()?.catch(() => undefined);
      await instance?.redis.quit();
      process.exit(0);
    });
  });
}
