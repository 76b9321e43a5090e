import type { AddressInfo } from "node:net";
import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * How the proxy treats bytes right now.
 * - `pass`: forwards at once.
 * - `delay`: forwards every chunk `delayMs` late, in both directions, keeping their order (a slow link).
 * - `black-hole`: accepts connections and reads everything, but forwards and answers nothing (a partition, a dead
 *   middlebox). The bytes are gone: a connection that lost some is reset by `heal()`, as TCP would eventually do.
 * - `reset`: resets (RST) every connection as soon as it carries a byte, mid-request (a flaky middlebox).
 */
export type ProxyMode =
  | { kind: "pass" }
  | { kind: "delay"; delayMs: number }
  | { kind: "black-hole" }
  | { kind: "reset" };

/** A loopback TCP proxy a test can cut, slow down, black-hole or make reset, to misbehave between a client and a real server. */
export interface TcpProxy {
  port: number;
  /** Drops every connection and stops accepting new ones. */
  cut(): Promise<void>;
  /** Accepts connections again on the same port. */
  restore(): Promise<void>;
  /** Forwards every chunk `delayMs` late from now on. */
  delay(delayMs: number): void;
  /** Swallows every byte from now on, on open and new connections alike. */
  blackHole(): void;
  /** Resets every connection, open or new, at its next byte. */
  resetConnections(): void;
  /** Back to forwarding at once; connections that lost bytes in a black hole are reset, the others carry on. */
  heal(): void;
  /** Connections reset or dropped by the proxy since it started. */
  readonly resets: number;
  close(): Promise<void>;
}

interface Link {
  client: Socket;
  upstream: Socket;
  /** Bytes were swallowed: the byte stream is broken and the connection can only be reset. */
  lostBytes: boolean;
}

export async function startTcpProxy(targetPort: number, targetHost = "127.0.0.1"): Promise<TcpProxy> {
  const links = new Set<Link>();
  let mode: ProxyMode = { kind: "pass" };
  let resets = 0;
  let server: Server | undefined;
  let port = 0;

  const drop = (link: Link, reset: boolean) => {
    if (!links.delete(link)) return;
    if (reset) {
      resets++;
      link.client.resetAndDestroy();
      link.upstream.resetAndDestroy();
    } else {
      link.client.destroy();
      link.upstream.destroy();
    }
  };

  /** Forwards `from`'s chunks to `to` as the mode at each chunk's arrival says; delayed chunks keep their order. */
  const relay = (link: Link, from: Socket, to: Socket) => {
    let releaseAfter = 0;
    from.on("data", (chunk: Buffer) => {
      if (mode.kind === "reset") {
        drop(link, true);
        return;
      }
      if (mode.kind === "black-hole") {
        link.lostBytes = true;
        return;
      }
      const releaseAt = Math.max(mode.kind === "delay" ? Date.now() + mode.delayMs : 0, releaseAfter);
      releaseAfter = releaseAt;
      const waitMs = releaseAt - Date.now();
      if (waitMs <= 0) to.write(chunk);
      else setTimeout(() => to.destroyed || to.write(chunk), waitMs);
    });
  };

  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(targetPort, targetHost);
        const link: Link = { client, upstream, lostBytes: false };
        links.add(link);
        relay(link, client, upstream);
        relay(link, upstream, client);
        client.on("error", () => drop(link, false)).on("close", () => drop(link, false));
        upstream.on("error", () => drop(link, false)).on("close", () => drop(link, false));
      });
      server.listen(port, "127.0.0.1", () => {
        port = (server!.address() as AddressInfo).port;
        resolve();
      });
    });
  const cut = async () => {
    for (const link of [...links]) drop(link, false);
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  };
  await listen();
  return {
    port,
    cut,
    restore: listen,
    delay: (delayMs) => {
      mode = { kind: "delay", delayMs };
    },
    blackHole: () => {
      mode = { kind: "black-hole" };
    },
    resetConnections: () => {
      mode = { kind: "reset" };
    },
    heal: () => {
      mode = { kind: "pass" };
      for (const link of [...links]) if (link.lostBytes) drop(link, true);
    },
    get resets() {
      return resets;
    },
    close: cut,
  };
}
