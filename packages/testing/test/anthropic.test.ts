import Anthropic, { type APIError } from "@anthropic-ai/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeProviders, startFakeProviders } from "../src/index";
import { expectedReply, fromAnthropicUsage, richUsage } from "./usage-from-wire";

let fake: FakeProviders;
let anthropic: Anthropic;

beforeAll(async () => {
  fake = await startFakeProviders();
  anthropic = new Anthropic({ apiKey: "k", baseURL: fake.anthropicBaseURL, maxRetries: 0 });
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

// A current model id: the SDK warns about deprecated ones. "Be brief." (9) + "Hello, Claude" (13) = 22
// characters → ceil(22 / 4) = 6 input tokens.
const model = "claude-haiku-4-5";
const request = {
  model,
  max_tokens: 5,
  system: "Be brief.",
  messages: [{ role: "user" as const, content: "Hello, Claude" }],
};

describe("messages", () => {
  it("answers JSON with usage derived from the request and capped by max_tokens", async () => {
    const message = await anthropic.messages.create(request);

    expect(message.content).toEqual([{ type: "text", text: expectedReply(5) }]);
    expect(message.stop_reason).toBe("end_turn");
    expect(message.usage).toMatchObject({
      input_tokens: 6,
      output_tokens: 5,
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
    });
    expect(fake.requests[0]).toMatchObject({
      provider: "anthropic",
      operation: "anthropic.messages",
      path: "/v1/messages",
      model,
      stream: false,
      status: 200,
      completed: true,
    });
    expect(fromAnthropicUsage(message.usage)).toEqual(fake.requests[0]?.usage);
  });

  it("splits input into uncached, cache-read and 5m/1h cache-write counts", async () => {
    fake.addRule({ match: { provider: "anthropic" }, usage: richUsage });
    const message = await anthropic.messages.create(request);

    expect(message.usage).toMatchObject({
      input_tokens: 250,
      cache_read_input_tokens: 600,
      cache_creation_input_tokens: 150,
      cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 50 },
      output_tokens: 12,
      output_tokens_details: { thinking_tokens: 4 },
    });
    expect(message.content).toEqual([{ type: "text", text: expectedReply(8) }]);
    expect(fake.requests[0]?.usage).toEqual(richUsage);
    expect(fromAnthropicUsage(message.usage)).toEqual(richUsage);
  });

  it("streams named events with start and cumulative delta usage", async () => {
    fake.addRule({ usage: richUsage });
    const stream = await anthropic.messages.create({ ...request, stream: true });
    const events: Anthropic.RawMessageStreamEvent[] = [];
    for await (const event of stream) {
      events.push(event);
    }

    // `ping` is on the wire but the SDK drops it.
    expect(events.map((event) => event.type)).toEqual([
      "message_start",
      "content_block_start",
      ...Array.from({ length: 8 }, () => "content_block_delta"),
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    const start = events[0];
    expect(start?.type === "message_start" && start.message.usage).toMatchObject({
      input_tokens: 250,
      cache_read_input_tokens: 600,
      cache_creation_input_tokens: 150,
      output_tokens: 1,
    });
    const delta = events.at(-2);
    expect(delta?.type === "message_delta" && delta.usage).toMatchObject({
      input_tokens: 250,
      cache_read_input_tokens: 600,
      cache_creation_input_tokens: 150,
      output_tokens: 12,
    });
    expect(delta?.type === "message_delta" && delta.delta.stop_reason).toBe("end_turn");
    // 13 events above plus the ping.
    expect(fake.requests[0]).toMatchObject({ chunksSent: 14, completed: true, usage: richUsage });
  });

  it("works with messages.stream() and finalMessage()", async () => {
    fake.addRule({ usage: richUsage });
    const stream = anthropic.messages.stream(request);
    const texts: string[] = [];
    stream.on("text", (text) => texts.push(text));
    const final = await stream.finalMessage();

    expect(texts.join("")).toBe(expectedReply(8));
    expect(fromAnthropicUsage(final.usage)).toEqual(richUsage);
    expect(fake.requests[0]?.usage).toEqual(richUsage);
  });

  it("logs clientClosedEarly when messages.stream() is aborted", async () => {
    fake.addRule({ fault: { chunkDelayMs: 15 } });
    const stream = anthropic.messages.stream(request);
    stream.on("text", () => stream.abort());

    await expect(stream.finalMessage()).rejects.toBeInstanceOf(Anthropic.APIUserAbortError);
    await fake.waitForIdle();
    expect(fake.requests[0]).toMatchObject({ clientClosedEarly: true, completed: false, usage: undefined });
  });
});

describe("count_tokens", () => {
  it("returns the derived input tokens", async () => {
    const count = await anthropic.messages.countTokens({ model, system: request.system, messages: request.messages });

    expect(count.input_tokens).toBe(6);
    expect(fake.requests[0]).toMatchObject({
      operation: "anthropic.countTokens",
      path: "/v1/messages/count_tokens",
      usage: undefined,
    });
  });

  it("returns a rule's inputTokens", async () => {
    fake.addRule({ match: { operation: "anthropic.countTokens" }, usage: { inputTokens: 4321 } });
    const count = await anthropic.messages.countTokens({ model, messages: request.messages });

    expect(count.input_tokens).toBe(4321);
  });
});

describe("errors", () => {
  it("answers 529 with an overloaded_error body the SDK maps to OverloadedError", async () => {
    fake.addRule({ fault: { status: 529 } });
    const error: unknown = await anthropic.messages.create(request).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(Anthropic.OverloadedError);
    expect((error as APIError).status).toBe(529);
    expect((error as APIError).error).toMatchObject({ type: "error", error: { type: "overloaded_error" } });
    expect(fake.requests[0]).toMatchObject({ status: 529, usage: undefined, completed: true });
  });

  it("answers 429 with rate_limit_error and retries once after retry-after", async () => {
    // Anthropic's SDK ignores `retry-after: 0` and falls back to its own backoff, so use 10 ms.
    fake.addRule({ fault: { status: 429, retryAfterSeconds: 0.01 }, times: 1 });
    const client = new Anthropic({ apiKey: "k", baseURL: fake.anthropicBaseURL, maxRetries: 1 });
    const message = await client.messages.create(request);

    expect(message.usage.output_tokens).toBe(5);
    expect(fake.requests.map((recorded) => recorded.status)).toEqual([429, 200]);
    expect(fake.requests.map((recorded) => recorded.headers["x-stainless-retry-count"])).toEqual(["0", "1"]);
  });
});
