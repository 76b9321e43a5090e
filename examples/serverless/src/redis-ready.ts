import type { Redis } from "ioredis";

/**
 * Resolves when the client is connected, or after `timeoutMs`, whichever is first; never rejects. ioredis connects
 * in the background, and with the offline queue off a command sent before the connection is up fails at once: a cold
 * start waits for the first connection here (once, briefly), and a Redis that is down costs no more than that.
 */
export function whenRedisReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === "ready") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off("ready", done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    timer.unref?.();
    redis.once("ready", done);
  });
}
