import { randomUUID } from "node:crypto";

/** A unique id per call: the reservation id in the store and the correlation id between SDK layer and transport. */
export function createCallId(): string {
  return randomUUID();
}
