// Child process of the multi-process exactness test: connects, reports "ready", waits for "go" on stdin, then fires
// its admissions all at once and prints how many were admitted.
import { Redis } from "ioredis";
import { createRedisStore } from "../src/index";

const [host = "127.0.0.1", port = "6379", prefix = "", key = "", calls = "0", capacity = "0"] = process.argv.slice(2);
const client = new Redis({ host, port: Number(port), enableOfflineQueue: false, lazyConnect: true });
await client.connect();
const store = createRedisStore(client, { prefix });
process.stdout.write("ready\n");
await new Promise<void>((resolve) => process.stdin.once("data", () => resolve()));
process.stdin.destroy();
const results = await Promise.all(
  Array.from({ length: Number(calls) }, (_, index) =>
    store.admit({
      reservationId: `${process.pid}-${index}`,
      charges: [
        {
          key,
          amount: 1,
          capacity: Number(capacity),
          enforce: true,
          window: { kind: "sliding", windowMs: 60_000, slots: 10 },
        },
      ],
      blockKeys: [],
      leaseMs: 60_000,
    }),
  ),
);
process.stdout.write(`${JSON.stringify({ admitted: results.filter((result) => result.admitted).length })}\n`);
await client.quit();
