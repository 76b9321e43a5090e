import type { Cluster, Redis } from "ioredis";
import type { RedisClient } from "./redis-client";

/** Connection states in which the first connection (or a reconnection attempt) is under way. */
const connectingStates = new Set<string>(["wait", "connecting", "connect"]);

/**
 * Sends one round trip under a deadline. With the offline queue disabled ioredis refuses commands until the client
 * is ready, so a client that is still connecting (a lazy client, a process's first call) is waited for within the same
 * deadline, and the command is sent only once it is ready: nothing is ever queued to be replayed later. A client that
 * lost its connection fails at once.
 *
 * A Cluster is ready before its connections to the primaries are: ioredis opens those on first use, and with the offline
 * queue off it rejects a command sent to one that is still opening ("Connection is closed."). So on a Cluster the
 * command also waits, within the deadline, for every primary connection that is opening.
 *
 * On timeout the promise rejects, but a command already written cannot be recalled: Redis may still apply it.
 */
export function withDeadline<T>(
  client: RedisClient,
  timeoutMs: number,
  operation: string,
  send: () => Promise<T>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let finished = false;
    let stopWaiting: (() => void) | undefined;
    const timer = setTimeout(() => {
      finished = true;
      stopWaiting?.();
      reject(new Error(`Redis did not answer ${operation} within ${timeoutMs} ms (commandTimeoutMs)`));
    }, timeoutMs);
    timer.unref();
    const fail = (error: unknown) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    const start = () => {
      let sent: Promise<T>;
      try {
        sent = send();
      } catch (error) {
        fail(error);
        return;
      }
      sent.then((value) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        resolve(value);
      }, fail);
    };
    /** Sends once nothing is opening any more; a connection may open, then another, so it looks again each time. */
    const sendWhenReady = () => {
      if (finished) return;
      if (client.status !== "ready" && !connectingStates.has(client.status)) {
        fail(new Error(`Redis connection is ${client.status}: ${operation} was not sent`));
        return;
      }
      const opening = openingConnections(client);
      if (opening.length === 0) {
        start();
        return;
      }
      let waiting = opening.length;
      const stops = opening.map((connection) =>
        whenReady(connection, () => {
          waiting -= 1;
          if (waiting > 0) return;
          stopWaiting = undefined;
          sendWhenReady();
        }),
      );
      stopWaiting = () => {
        for (const stop of stops) stop();
      };
      for (const connection of opening) {
        if (connection.status === "wait") connection.connect().catch(() => undefined);
      }
    };
    sendWhenReady();
  });
}

/**
 * The connections a command must wait for: the client itself while it connects, and once a Cluster is ready, its
 * primary connections that are opening. A primary in another state (closed, reconnecting) is left to ioredis, which
 * refreshes the slots and redirects, or fails the command.
 */
function openingConnections(client: RedisClient): RedisClient[] {
  if (client.status !== "ready") return [client];
  if (!client.isCluster) return [];
  return (client as Cluster).nodes("master").filter((node: Redis) => connectingStates.has(node.status));
}

interface ReadyWaiters {
  listener: () => void;
  callbacks: Set<() => void>;
}

const readyWaiters = new WeakMap<RedisClient, ReadyWaiters>();

/**
 * Calls `callback` when the connection becomes ready, or ends (then it never will, and the caller looks again). Every
 * waiting command shares one listener per connection, so a burst of calls on a connecting client does not trip Node's
 * max-listeners warning. Returns the function that stops waiting; the listener goes once nobody waits.
 */
function whenReady(connection: RedisClient, callback: () => void): () => void {
  let waiters = readyWaiters.get(connection);
  if (waiters === undefined) {
    const callbacks = new Set<() => void>();
    const listener = () => {
      stopListening(connection, listener);
      for (const waiting of callbacks) waiting();
    };
    waiters = { listener, callbacks };
    readyWaiters.set(connection, waiters);
    connection.once("ready", listener);
    connection.once("end", listener);
  }
  const { listener, callbacks } = waiters;
  callbacks.add(callback);
  return () => {
    if (callbacks.delete(callback) && callbacks.size === 0) stopListening(connection, listener);
  };
}

function stopListening(connection: RedisClient, listener: () => void): void {
  connection.off("ready", listener);
  connection.off("end", listener);
  if (readyWaiters.get(connection)?.listener === listener) readyWaiters.delete(connection);
}
