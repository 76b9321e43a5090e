import type Anthropic from "@anthropic-ai/sdk";
import type { GoogleGenAI } from "@google/genai";
import type { GoogleGenerativeAI } from "@google/generative-ai";
import { guardedClient } from "@tollgate/core";
import type OpenAI from "openai";
import { describe, expectTypeOf, it } from "vitest";

declare const openai: OpenAI;
declare const anthropic: Anthropic;
declare const genai: GoogleGenAI;
declare const legacy: GoogleGenerativeAI;

describe("guard.for() keeps each SDK's own types", () => {
  it("returns the clients as the exact types passed in", () => {
    const ai = guardedClient({ providers: { openai, anthropic, google: genai } }).for({ user: "u" });
    expectTypeOf(ai.openai).toEqualTypeOf<OpenAI>();
    expectTypeOf(ai.anthropic).toEqualTypeOf<Anthropic>();
    expectTypeOf(ai.google).toEqualTypeOf<GoogleGenAI>();
    expectTypeOf(ai.openai.chat.completions.create).toEqualTypeOf<OpenAI["chat"]["completions"]["create"]>();
    expectTypeOf(ai.anthropic.messages.stream).toEqualTypeOf<Anthropic["messages"]["stream"]>();
    expectTypeOf(ai.google.models.generateContentStream).toEqualTypeOf<
      GoogleGenAI["models"]["generateContentStream"]
    >();
  });

  it("types the deprecated Google SDK as itself", () => {
    const ai = guardedClient({ providers: { google: legacy } }).for({ user: "u" });
    expectTypeOf(ai.google).toEqualTypeOf<GoogleGenerativeAI>();
    expectTypeOf(ai.google.getGenerativeModel).toEqualTypeOf<GoogleGenerativeAI["getGenerativeModel"]>();
  });

  it("only has the providers that were passed", () => {
    const ai = guardedClient({ providers: { openai } }).for({ user: "u" });
    expectTypeOf(ai).toEqualTypeOf<{ openai: OpenAI }>();
  });

  it("rejects a limit with two measures or no window at compile time", () => {
    guardedClient({
      providers: { openai },
      // @ts-expect-error: a limit has exactly one measure
      limits: [{ id: "x", scope: "user", requests: 1, tokens: 2, per: "1m" }],
    });
    guardedClient({
      providers: { openai },
      // @ts-expect-error: `per` and `period` are exclusive
      limits: [{ id: "x", scope: "user", requests: 1, per: "1m", period: "day" }],
    });
  });
});
