export interface FirstUse<T> {
  /** The instance: created by the first call, shared by every later and concurrent one. */
  (): Promise<T>;
  /** The instance if a call has created it (or is creating it), without creating one: for shutdown. */
  ifStarted(): Promise<T> | undefined;
}

/**
 * `initialise` runs on the first call only; that call and every later one, concurrent or not, share its promise. This
 * is the cold start of a function: the first invocation creates the Redis connection, store and guard, and every warm
 * invocation of the same instance reuses them. A failed initialisation is forgotten, so the next invocation tries
 * again instead of failing until the instance is recycled.
 */
export function onFirstUse<T>(initialise: () => Promise<T>): FirstUse<T> {
  let instance: Promise<T> | undefined;
  const get = () => {
    instance ??= initialise().catch((error: unknown) => {
      instance = undefined;
      throw error;
    });
    return instance;
  };
  return Object.assign(get, { ifStarted: () => instance });
}
