import { createMemoryStore } from "@tollgate/core";
import { describeStoreContract } from "../src/store-contract-entry";

// Real time, short windows: the same path a store with a server clock (Redis) takes.
describeStoreContract("memory, real clock", { createStore: () => createMemoryStore() });

// An injected clock: the time-dependent cases advance it instead of sleeping.
describeStoreContract("memory, injected clock", {
  createStore: () => createMemoryStore(),
  createStoreWithClock: (clock) => createMemoryStore({ clock }),
});
