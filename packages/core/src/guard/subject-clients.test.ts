import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { guardedClient } from "./guarded-client";

function newGuard() {
  // Nothing is sent: these tests only look at which clients `guard.for()` hands out.
  const openai = new OpenAI({ apiKey: "sk-test-subject-clients", baseURL: "http://127.0.0.1:9" });
  const anthropic = new Anthropic({ apiKey: "sk-ant-test-subject-clients", baseURL: "http://127.0.0.1:9" });
  return { openai, anthropic, guard: guardedClient({ providers: { openai, anthropic } }) };
}

describe("guard.for() clients", () => {
  it("reuses a subject's guarded clients, and gives another subject or other options their own", () => {
    const { guard } = newGuard();
    const first = guard.for({ user: "ada", ip: "10.0.0.1" });
    expect(guard.for({ user: "ada", ip: "10.0.0.1" }).openai).toBe(first.openai);
    expect(guard.for({ ip: "10.0.0.1", user: "ada" }).openai).toBe(first.openai);
    expect(guard.for({ user: "ada", ip: "10.0.0.2" }).openai).not.toBe(first.openai);
    expect(guard.for({ user: "ada", ip: "10.0.0.1" }, { onLimit: "wait" }).openai).not.toBe(first.openai);
    // Values that would collide if joined with a separator stay apart.
    expect(guard.for({ user: "a,b" }).openai).not.toBe(guard.for({ user: "a", ip: "b" }).openai);
  });

  it("forgets the least recently used subject once more than 64 have called", () => {
    const { guard } = newGuard();
    const kept = guard.for({ user: "kept" }).openai;
    const dropped = guard.for({ user: "dropped" }).openai;
    for (let index = 0; index < 63; index++) {
      guard.for({ user: "kept" });
      guard.for({ user: `other-${index}` });
    }
    expect(guard.for({ user: "kept" }).openai).toBe(kept);
    expect(guard.for({ user: "dropped" }).openai).not.toBe(dropped);
  });

  it("lists every provider, builds each clone once, and never hands out the caller's instance", () => {
    const { guard, openai, anthropic } = newGuard();
    const clients = guard.for({ user: "lazy" });
    expect(Object.keys(clients).sort()).toEqual(["anthropic", "openai"]);
    expect(clients.openai).not.toBe(openai);
    expect(clients.openai).toBe(clients.openai);
    expect(clients.anthropic).not.toBe(anthropic);
    expect(clients.openai.chat.completions.create).not.toBe(openai.chat.completions.create);
  });
});
