import { timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { signWebhookBody, type TollgateAlert } from "@tollgate/core";

export interface Receiver {
  url: string;
  received: { body: TollgateAlert; validSignature: boolean }[];
  close(): Promise<void>;
}

/** A webhook receiver on loopback that checks signatures like a real one would. */
export async function startReceiver(secret: string, port = 0): Promise<Receiver> {
  const received: Receiver["received"] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const expected = Buffer.from(signWebhookBody(secret, String(request.headers["x-tollgate-timestamp"]), body));
      const given = Buffer.from(String(request.headers["x-tollgate-signature"]));
      received.push({
        body: JSON.parse(body) as TollgateAlert,
        validSignature: given.length === expected.length && timingSafeEqual(given, expected),
      });
      response.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
