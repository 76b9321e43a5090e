import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import { GoogleGenerativeAI } from "@google/generative-ai";
import type { FakeProviders } from "@tollgate/testing";
import OpenAI from "openai";

/** The four real SDK clients, pointed at the fake provider server, without retries unless asked. */
export function createClients(fake: FakeProviders, maxRetries = 0) {
  return {
    openai: new OpenAI({ apiKey: "sk-test-openai", baseURL: fake.openaiBaseURL, maxRetries }),
    anthropic: new Anthropic({ apiKey: "sk-ant-test", baseURL: fake.anthropicBaseURL, maxRetries }),
    genai: new GoogleGenAI({ apiKey: "AIza-test-genai", httpOptions: { baseUrl: fake.googleBaseUrl } }),
    legacyGoogle: new GoogleGenerativeAI("AIza-test-legacy"),
  };
}
