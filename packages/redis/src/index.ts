export type { RedisStoreOptions } from "./redis-store";
export { createRedisStore } from "./redis-store";
