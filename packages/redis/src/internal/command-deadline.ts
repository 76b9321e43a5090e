import type { RedisClient } from "./redis-client";

/** Connection states in which the first connection (or a reconnection attempt) is under way. */
const connectingStates = new Set<string>(["wait", "connecting", "connect"]);

/**
 * Sends one round trip under a deadline. With the offline queue disabled ioredis refuses commands until the client
 * is ready, so a client that is still connecting (a lazy client, a process's first call) is waited for within the same
 * deadline, and the command is sent only once it is ready: nothing is ever queued to be replayed later. A client that
 * lost its connection fails at once.
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

    if (client.status === "ready") {
      start();
      return;
    }
    if (!connectingStates.has(client.status)) {
      fail(new Error(`Redis connection is ${client.status}: ${operation} was not sent`));
      return;
    }
    const onReady = () => {
      stopWaiting?.();
      if (!finished) start();
    };
    client.once("ready", onReady);
    stopWaiting = () => client.off("ready", onReady);
    if (client.status === "wait") client.connect().catch(() => undefined);
  });
}
