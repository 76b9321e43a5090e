import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import { GoogleGenerativeAI } from "@google/generative-ai";
import OpenAI from "openai";
import { afterEach, describe, expect, it, vi } from "vitest";
import { anthropicUsage } from "./anthropic-usage";
import { googleUsage } from "./google-usage";
import { openAiChatUsage, openAiResponsesUsage } from "./openai-usage";
import type { OperationKind } from "./operation";
import { createUsageMeter, type UsageMeterOptions, type UsageMeterResult } from "./usage-meter";

// ---------------------------------------------------------------------------------------------------------------
// Helpers

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A small deterministic PRNG (mulberry32), so failures reproduce. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

function splitAt(bytes: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let start = 0;
  for (const offset of [...offsets, bytes.length]) {
    pieces.push(bytes.slice(start, offset));
    start = offset;
  }
  return pieces;
}

function randomSplits(bytes: Uint8Array, next: () => number, maxPiece: number): Uint8Array[] {
  const offsets: number[] = [];
  let offset = 0;
  while (true) {
    offset += 1 + Math.floor(next() * maxPiece);
    if (offset >= bytes.length) break;
    offsets.push(offset);
  }
  return splitAt(bytes, offsets);
}

/** Every way of cutting `bytes` we test: each two-way split, one byte at a time, and random pieces. */
function* splitsOf(bytes: Uint8Array): Generator<Uint8Array[]> {
  yield [bytes];
  for (let offset = 1; offset < bytes.length; offset++) yield splitAt(bytes, [offset]);
  yield splitAt(
    bytes,
    Array.from({ length: bytes.length - 1 }, (_, index) => index + 1),
  );
  const next = random(bytes.length);
  for (let round = 0; round < 100; round++) yield randomSplits(bytes, next, 64);
}

function concat(pieces: readonly Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(pieces.reduce((length, piece) => length + piece.length, 0));
  let written = 0;
  for (const piece of pieces) {
    bytes.set(piece, written);
    written += piece.length;
  }
  return bytes;
}

interface MeterRun {
  forwarded: Uint8Array[];
  result: UsageMeterResult;
}

function runMeter(operation: OperationKind, options: UsageMeterOptions, pieces: readonly Uint8Array[]): MeterRun {
  const meter = createUsageMeter(operation, options);
  const forwarded: Uint8Array[] = [];
  for (const piece of pieces) {
    const out = meter.push(piece);
    if (out !== undefined && out.length > 0) forwarded.push(out);
  }
  return { forwarded, result: meter.end() };
}

/** Runs the meter over every split of `bytes` and checks it always gets `expected` and forwards `expectedBytes`. */
function expectSplitIndependent(
  operation: OperationKind,
  options: UsageMeterOptions,
  bytes: Uint8Array,
  expected: UsageMeterResult,
  expectedBytes: Uint8Array = bytes,
): void {
  const expectedText = decoder.decode(expectedBytes);
  for (const pieces of splitsOf(bytes)) {
    const run = runMeter(operation, options, pieces);
    expect(run.result).toStrictEqual(expected);
    const forwarded = concat(run.forwarded);
    if (forwarded.length !== expectedBytes.length || !forwarded.every((byte, index) => byte === expectedBytes[index])) {
      expect(decoder.decode(forwarded)).toBe(expectedText);
    }
  }
}

function sse(events: ReadonlyArray<{ event?: string; data: unknown }>, newline = "\n"): string {
  return events
    .map(({ event, data }) => {
      const json = typeof data === "string" ? data : JSON.stringify(data);
      return `${event === undefined ? "" : `event: ${event}${newline}`}data: ${json}${newline}${newline}`;
    })
    .join("");
}

function bodyStream(pieces: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const piece = pieces[index++];
      if (piece === undefined) controller.close();
      else controller.enqueue(piece);
    },
  });
}

/** A `fetch` that answers every request with `pieces` as the body. */
function fakeFetch(pieces: readonly Uint8Array[], contentType: string) {
  return async (): Promise<Response> =>
    new Response(bodyStream(pieces), { status: 200, headers: { "content-type": contentType } });
}

// ---------------------------------------------------------------------------------------------------------------
// Fixtures, written from the wire formats (openai-node, anthropic-sdk-typescript and genai types and docs)

function chatChunk(choices: unknown[], usage: unknown = null): object {
  return {
    id: "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
    object: "chat.completion.chunk",
    created: 1741569952,
    model: "gpt-4o-2024-08-06",
    service_tier: "default",
    system_fingerprint: "fp_eb9dce56a8",
    choices,
    usage,
  };
}

const CHAT_USAGE = {
  prompt_tokens: 2006,
  completion_tokens: 300,
  total_tokens: 2306,
  prompt_tokens_details: { cached_tokens: 1920, audio_tokens: 0 },
  completion_tokens_details: {
    reasoning_tokens: 192,
    audio_tokens: 0,
    accepted_prediction_tokens: 0,
    rejected_prediction_tokens: 0,
  },
};

const CHAT_EVENTS = [
  {
    data: chatChunk([
      { index: 0, delta: { role: "assistant", content: "", refusal: null }, logprobs: null, finish_reason: null },
    ]),
  },
  { data: chatChunk([{ index: 0, delta: { content: "Привет, " }, logprobs: null, finish_reason: null }]) },
  { data: chatChunk([{ index: 0, delta: { content: "мир 🌍!" }, logprobs: null, finish_reason: null }]) },
  {
    data: chatChunk([
      {
        index: 0,
        delta: {
          tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "get_weather", arguments: "" } }],
        },
        logprobs: null,
        finish_reason: null,
      },
    ]),
  },
  {
    data: chatChunk([
      { index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }, finish_reason: null },
    ]),
  },
  {
    data: chatChunk([
      { index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }, finish_reason: null },
    ]),
  },
  { data: chatChunk([{ index: 0, delta: {}, logprobs: null, finish_reason: "tool_calls" }]) },
];
const CHAT_USAGE_EVENT = { data: chatChunk([], CHAT_USAGE) };
const DONE_EVENT = { data: "[DONE]" };
const CHAT_OUTPUT_CHARACTERS = "Привет, ".length + "мир 🌍!".length + '{"city":"Paris"}'.length;
const CHAT_RESULT: UsageMeterResult = {
  usage: { inputTokens: 2006, cachedInputTokens: 1920, outputTokens: 300, reasoningTokens: 192 },
  final: true,
  outputCharacters: CHAT_OUTPUT_CHARACTERS,
  inputKnown: true,
};

function responsesEvent(type: string, sequence: number, fields: object): { event: string; data: object } {
  return { event: type, data: { type, sequence_number: sequence, ...fields } };
}

function responsesSnapshot(status: string, usage: unknown, output: unknown[] = []): object {
  return {
    id: "resp_67ccd2bed1ec8190",
    object: "response",
    created_at: 1741476542,
    status,
    model: "o4-mini-2025-04-16",
    output,
    usage,
    incomplete_details: status === "incomplete" ? { reason: "max_output_tokens" } : null,
  };
}

const RESPONSES_USAGE = {
  input_tokens: 5000,
  input_tokens_details: { cached_tokens: 4096 },
  output_tokens: 900,
  output_tokens_details: { reasoning_tokens: 512 },
  total_tokens: 5900,
};

function responsesEvents(
  terminal: "response.completed" | "response.incomplete",
): Array<{ event: string; data: object }> {
  const status = terminal === "response.completed" ? "completed" : "incomplete";
  const message = { id: "msg_1", type: "message", status: "in_progress", role: "assistant", content: [] };
  const part = { type: "output_text", text: "", annotations: [] };
  return [
    responsesEvent("response.created", 0, { response: responsesSnapshot("in_progress", null) }),
    responsesEvent("response.in_progress", 1, { response: responsesSnapshot("in_progress", null) }),
    responsesEvent("response.output_item.added", 2, {
      output_index: 0,
      item: { id: "rs_1", type: "reasoning", summary: [] },
    }),
    responsesEvent("response.reasoning_summary_text.delta", 3, {
      item_id: "rs_1",
      output_index: 0,
      summary_index: 0,
      delta: "Weighing options…",
    }),
    responsesEvent("response.output_item.done", 4, {
      output_index: 0,
      item: { id: "rs_1", type: "reasoning", summary: [{ type: "summary_text", text: "Weighing options…" }] },
    }),
    responsesEvent("response.output_item.added", 5, { output_index: 1, item: message }),
    responsesEvent("response.content_part.added", 6, { item_id: "msg_1", output_index: 1, content_index: 0, part }),
    responsesEvent("response.output_text.delta", 7, {
      item_id: "msg_1",
      output_index: 1,
      content_index: 0,
      delta: "Günaydın ",
      logprobs: [],
    }),
    responsesEvent("response.output_text.delta", 8, {
      item_id: "msg_1",
      output_index: 1,
      content_index: 0,
      delta: "☀️",
      logprobs: [],
    }),
    responsesEvent("response.output_text.done", 9, {
      item_id: "msg_1",
      output_index: 1,
      content_index: 0,
      text: "Günaydın ☀️",
      logprobs: [],
    }),
    responsesEvent("response.content_part.done", 10, {
      item_id: "msg_1",
      output_index: 1,
      content_index: 0,
      part: { ...part, text: "Günaydın ☀️" },
    }),
    responsesEvent("response.output_item.done", 11, {
      output_index: 1,
      item: { ...message, status: "completed", content: [{ ...part, text: "Günaydın ☀️" }] },
    }),
    responsesEvent(terminal, 12, { response: responsesSnapshot(status, RESPONSES_USAGE) }),
  ];
}

const RESPONSES_RESULT: UsageMeterResult = {
  usage: { inputTokens: 5000, cachedInputTokens: 4096, outputTokens: 900, reasoningTokens: 512 },
  final: true,
  outputCharacters: "Weighing options…".length + "Günaydın ☀️".length,
  inputKnown: true,
};

const ANTHROPIC_START_USAGE = {
  input_tokens: 10,
  cache_creation_input_tokens: 2000,
  cache_read_input_tokens: 30000,
  cache_creation: { ephemeral_5m_input_tokens: 1500, ephemeral_1h_input_tokens: 500 },
  output_tokens: 1,
  service_tier: "standard",
};

function anthropicEvents(deltaUsage: object): Array<{ event: string; data: object }> {
  return [
    {
      event: "message_start",
      data: {
        type: "message_start",
        message: {
          id: "msg_01",
          type: "message",
          role: "assistant",
          model: "claude-haiku-4-5",
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: ANTHROPIC_START_USAGE,
        },
      },
    },
    { event: "ping", data: { type: "ping" } },
    {
      event: "content_block_start",
      data: { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "", signature: "" } },
    },
    {
      event: "content_block_delta",
      data: { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "Hmm — 考える" } },
    },
    {
      event: "content_block_delta",
      data: { type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: "RXVnZQ==" } },
    },
    { event: "content_block_stop", data: { type: "content_block_stop", index: 0 } },
    {
      event: "content_block_start",
      data: { type: "content_block_start", index: 1, content_block: { type: "text", text: "" } },
    },
    {
      event: "content_block_delta",
      data: { type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "Hallå " } },
    },
    {
      event: "content_block_delta",
      data: { type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "värld 🙂" } },
    },
    { event: "content_block_stop", data: { type: "content_block_stop", index: 1 } },
    {
      event: "content_block_start",
      data: {
        type: "content_block_start",
        index: 2,
        content_block: { type: "tool_use", id: "toolu_01", name: "get_weather", input: {} },
      },
    },
    {
      event: "content_block_delta",
      data: { type: "content_block_delta", index: 2, delta: { type: "input_json_delta", partial_json: '{"city": ' } },
    },
    {
      event: "content_block_delta",
      data: { type: "content_block_delta", index: 2, delta: { type: "input_json_delta", partial_json: '"Oslo"}' } },
    },
    { event: "content_block_stop", data: { type: "content_block_stop", index: 2 } },
    {
      event: "message_delta",
      data: { type: "message_delta", delta: { stop_reason: "tool_use", stop_sequence: null }, usage: deltaUsage },
    },
    { event: "message_stop", data: { type: "message_stop" } },
  ];
}

const ANTHROPIC_OUTPUT_CHARACTERS =
  "Hmm — 考える".length + "Hallå ".length + "värld 🙂".length + '{"city": '.length + '"Oslo"}'.length;

function geminiChunk(parts: unknown[], usageMetadata: object, finishReason?: string): object {
  return {
    candidates: [
      { content: { parts, role: "model" }, index: 0, ...(finishReason === undefined ? {} : { finishReason }) },
    ],
    usageMetadata,
    modelVersion: "gemini-2.5-flash",
    responseId: "mBtdaO2bJ6iI1dkP",
  };
}

const GEMINI_EVENTS = [
  {
    data: geminiChunk([{ text: "Planning the answer…", thought: true }], {
      promptTokenCount: 1200,
      cachedContentTokenCount: 1024,
      totalTokenCount: 1237,
      thoughtsTokenCount: 37,
    }),
  },
  {
    data: geminiChunk([{ text: "Olá, " }], {
      promptTokenCount: 1200,
      cachedContentTokenCount: 1024,
      candidatesTokenCount: 3,
      totalTokenCount: 1240,
      thoughtsTokenCount: 37,
    }),
  },
  {
    data: geminiChunk(
      [{ text: "mundo 🌎" }],
      {
        promptTokenCount: 1200,
        cachedContentTokenCount: 1024,
        candidatesTokenCount: 50,
        totalTokenCount: 1297,
        thoughtsTokenCount: 37,
        toolUsePromptTokenCount: 10,
        promptTokensDetails: [{ modality: "TEXT", tokenCount: 1200 }],
        cacheTokensDetails: [{ modality: "TEXT", tokenCount: 1024 }],
      },
      "STOP",
    ),
  },
];

const GEMINI_RESULT: UsageMeterResult = {
  usage: { inputTokens: 1210, cachedInputTokens: 1024, outputTokens: 87, reasoningTokens: 37 },
  final: true,
  outputCharacters: "Planning the answer…".length + "Olá, ".length + "mundo 🌎".length,
  inputKnown: true,
};

// ---------------------------------------------------------------------------------------------------------------

describe("createUsageMeter: OpenAI chat", () => {
  const bytes = encoder.encode(sse([...CHAT_EVENTS, CHAT_USAGE_EVENT, DONE_EVENT]));

  it("reads the usage chunk at any chunking, forwarding every byte as is", () => {
    expectSplitIndependent("openai.chat", { stream: true }, bytes, CHAT_RESULT);
  });

  it("forwards the very same chunk objects when not hiding", () => {
    const meter = createUsageMeter("openai.chat", { stream: true, hideUsageChunk: false });
    for (const piece of randomSplits(bytes, random(1), 50)) expect(meter.push(piece)).toBe(piece);
  });

  it("has no usage when the stream has no usage chunk (include_usage not set)", () => {
    const plain = encoder.encode(sse([...CHAT_EVENTS, DONE_EVENT]));
    expectSplitIndependent("openai.chat", { stream: true }, plain, {
      usage: undefined,
      final: false,
      outputCharacters: CHAT_OUTPUT_CHARACTERS,
      inputKnown: false,
    });
  });

  it("reads a JSON body at any chunking", () => {
    const body = encoder.encode(
      JSON.stringify({
        id: "chatcmpl-1",
        object: "chat.completion",
        created: 1741569952,
        model: "gpt-4o-mini",
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: "Ελληνικά ✓", refusal: null, annotations: [] },
            logprobs: null,
            finish_reason: "stop",
          },
        ],
        usage: CHAT_USAGE,
      }),
    );
    expectSplitIndependent("openai.chat", { stream: false }, body, {
      ...CHAT_RESULT,
      outputCharacters: "Ελληνικά ✓".length,
    });
  });
});

describe("createUsageMeter: hiding the OpenAI chat usage chunk", () => {
  const hide: UsageMeterOptions = { stream: true, hideUsageChunk: true };

  it.each([
    ["LF", "\n"],
    ["CRLF", "\r\n"],
    ["CR", "\r"],
  ])("drops exactly the usage chunk's block, at any chunking (%s)", (_name, newline) => {
    const original = encoder.encode(sse([...CHAT_EVENTS, CHAT_USAGE_EVENT, DONE_EVENT], newline));
    const withoutUsage = encoder.encode(sse([...CHAT_EVENTS, DONE_EVENT], newline));
    expectSplitIndependent("openai.chat", hide, original, CHAT_RESULT, withoutUsage);
  });

  it("keeps comments and unrelated blocks around the usage chunk byte-identical", () => {
    const before = `${sse(CHAT_EVENTS)}: keep-alive\n\n`;
    const after = `: another\n\n${sse([DONE_EVENT])}`;
    const original = encoder.encode(before + sse([CHAT_USAGE_EVENT]) + after);
    expectSplitIndependent("openai.chat", hide, original, CHAT_RESULT, encoder.encode(before + after));
  });

  it("passes a stream without a usage chunk through unchanged", () => {
    const plain = encoder.encode(sse([...CHAT_EVENTS, DONE_EVENT]));
    expectSplitIndependent(
      "openai.chat",
      hide,
      plain,
      { usage: undefined, final: false, outputCharacters: CHAT_OUTPUT_CHARACTERS, inputKnown: false },
      plain,
    );
  });

  it("forwards the same chunk objects again once the usage chunk is gone", () => {
    const meter = createUsageMeter("openai.chat", hide);
    const head = encoder.encode(sse([...CHAT_EVENTS, CHAT_USAGE_EVENT]));
    const done = encoder.encode(sse([DONE_EVENT]));
    expect(decoder.decode(meter.push(head))).toBe(sse(CHAT_EVENTS));
    expect(meter.push(done)).toBe(done);
    expect(meter.end()).toStrictEqual(CHAT_RESULT);
  });

  it("holds an unfinished block back until it is complete, and returns undefined for nothing to forward", () => {
    const meter = createUsageMeter("openai.chat", hide);
    const block = encoder.encode(sse([CHAT_EVENTS[1]!]));
    expect(meter.push(block.subarray(0, 20))).toBeUndefined();
    expect(decoder.decode(meter.push(block.subarray(20)))).toBe(decoder.decode(block));
  });

  it("forwards a stream the OpenAI SDK parses identically, minus the usage chunk", async () => {
    const original = encoder.encode(sse([...CHAT_EVENTS, CHAT_USAGE_EVENT, DONE_EVENT], "\r\n"));
    const parse = async (pieces: readonly Uint8Array[]): Promise<unknown[]> => {
      const client = new OpenAI({
        apiKey: "k",
        baseURL: "http://fake.invalid/v1",
        maxRetries: 0,
        fetch: fakeFetch(pieces, "text/event-stream"),
      });
      const stream = await client.chat.completions.create({
        model: "gpt-4o",
        messages: [{ role: "user", content: "hi" }],
        stream: true,
      });
      const chunks: unknown[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      return chunks;
    };
    const expected = (await parse([original])).filter((chunk) => (chunk as { choices: unknown[] }).choices.length > 0);
    expect(expected).toHaveLength(CHAT_EVENTS.length);
    for (let round = 0; round < 20; round++) {
      const run = runMeter("openai.chat", hide, randomSplits(original, random(round), 40));
      expect(await parse(run.forwarded)).toStrictEqual(expected);
      expect(run.result).toStrictEqual(CHAT_RESULT);
    }
  });

  it("drops the held tail of a stream cut inside the usage chunk, keeping what came before", () => {
    const full = sse([...CHAT_EVENTS, CHAT_USAGE_EVENT, DONE_EVENT]);
    const cutAt = encoder.encode(sse(CHAT_EVENTS)).length + 40;
    const meter = createUsageMeter("openai.chat", hide);
    const forwarded: Uint8Array[] = [];
    for (const piece of randomSplits(encoder.encode(full).subarray(0, cutAt), random(3), 30)) {
      const out = meter.push(piece);
      if (out) forwarded.push(out);
    }
    expect(decoder.decode(concat(forwarded))).toBe(sse(CHAT_EVENTS));
    expect(meter.snapshot()).toStrictEqual({
      usage: undefined,
      final: false,
      outputCharacters: CHAT_OUTPUT_CHARACTERS,
      inputKnown: false,
    });
  });

  it("is ignored for other operations", () => {
    const bytes = encoder.encode(sse(GEMINI_EVENTS, "\r\n"));
    const meter = createUsageMeter("google.generateContent", hide);
    expect(meter.push(bytes)).toBe(bytes);
  });
});

describe("createUsageMeter: OpenAI responses", () => {
  it.each(["response.completed", "response.incomplete"] as const)(
    "reads the usage of %s at any chunking",
    (terminal) => {
      expectSplitIndependent(
        "openai.responses",
        { stream: true },
        encoder.encode(sse(responsesEvents(terminal))),
        RESPONSES_RESULT,
      );
    },
  );

  it("reads response.failed usage, and has none (not final) before the terminal event", () => {
    const events = responsesEvents("response.completed");
    const failed = responsesEvent("response.failed", 12, {
      response: { ...responsesSnapshot("failed", RESPONSES_USAGE), error: { code: "server_error", message: "x" } },
    });
    const run = runMeter("openai.responses", { stream: true }, [encoder.encode(sse([...events.slice(0, -1), failed]))]);
    expect(run.result).toStrictEqual(RESPONSES_RESULT);

    const meter = createUsageMeter("openai.responses", { stream: true });
    meter.push(encoder.encode(sse(events.slice(0, -1))));
    expect(meter.snapshot()).toStrictEqual({
      usage: undefined,
      final: false,
      outputCharacters: RESPONSES_RESULT.outputCharacters,
      inputKnown: false,
    });
  });

  it("agrees with the usage the OpenAI SDK delivers", async () => {
    const pieces = randomSplits(encoder.encode(sse(responsesEvents("response.incomplete"))), random(5), 50);
    const client = new OpenAI({
      apiKey: "k",
      baseURL: "http://fake.invalid/v1",
      maxRetries: 0,
      fetch: fakeFetch(pieces, "text/event-stream"),
    });
    const stream = await client.responses.create({ model: "o4-mini", input: "hi", stream: true });
    let sdkUsage: unknown;
    for await (const event of stream) if (event.type === "response.incomplete") sdkUsage = event.response.usage;
    expect(openAiResponsesUsage(sdkUsage)).toStrictEqual(
      runMeter("openai.responses", { stream: true }, pieces).result.usage,
    );
  });
});

describe("createUsageMeter: OpenAI embeddings", () => {
  it("reads a JSON body", () => {
    const body = encoder.encode(
      JSON.stringify({
        object: "list",
        data: [{ object: "embedding", index: 0, embedding: "AACAPwAAAEA=" }],
        model: "text-embedding-3-small",
        usage: { prompt_tokens: 8, total_tokens: 8 },
      }),
    );
    expectSplitIndependent("openai.embeddings", { stream: false }, body, {
      usage: { inputTokens: 8, outputTokens: 0 },
      final: true,
      outputCharacters: 0,
      inputKnown: true,
    });
  });
});

describe("createUsageMeter: Anthropic messages", () => {
  it("merges message_start usage with the cumulative message_delta, at any chunking", () => {
    const bytes = encoder.encode(sse(anthropicEvents({ output_tokens: 420 })));
    expectSplitIndependent("anthropic.messages", { stream: true }, bytes, {
      usage: {
        inputTokens: 32010,
        cachedInputTokens: 30000,
        cacheWriteInputTokens: 1500,
        cacheWrite1hInputTokens: 500,
        outputTokens: 420,
      },
      final: true,
      outputCharacters: ANTHROPIC_OUTPUT_CHARACTERS,
      inputKnown: true,
    });
  });

  it("takes the latest non-null counters of message_delta, never adding", () => {
    const events = anthropicEvents({
      input_tokens: 25,
      cache_creation_input_tokens: null,
      cache_read_input_tokens: 30000,
      output_tokens: 420,
      output_tokens_details: { thinking_tokens: 300 },
      server_tool_use: null,
    });
    // A second, later cumulative delta (server tools can emit more than one): it replaces, it does not add.
    events.splice(-1, 0, {
      event: "message_delta",
      data: {
        type: "message_delta",
        delta: { stop_reason: "tool_use", stop_sequence: null },
        usage: { output_tokens: 433 },
      },
    });
    const run = runMeter("anthropic.messages", { stream: true }, [encoder.encode(sse(events))]);
    expect(run.result.usage).toStrictEqual({
      inputTokens: 25 + 30000 + 2000,
      cachedInputTokens: 30000,
      cacheWriteInputTokens: 1500,
      cacheWrite1hInputTokens: 500,
      outputTokens: 433,
      reasoningTokens: 300,
    });
    expect(run.result.final).toBe(true);
  });

  it("knows the input but not the final output of a stream cut before message_delta", () => {
    const events = anthropicEvents({ output_tokens: 420 });
    const full = encoder.encode(sse(events));
    const cutAt = encoder.encode(sse(events.slice(0, 9))).length + 30; // inside the tool_use content_block_start
    const meter = createUsageMeter("anthropic.messages", { stream: true });
    for (const piece of randomSplits(full.subarray(0, cutAt), random(9), 25)) expect(meter.push(piece)).toBe(piece);
    const expected: UsageMeterResult = {
      usage: {
        inputTokens: 32010,
        cachedInputTokens: 30000,
        cacheWriteInputTokens: 1500,
        cacheWrite1hInputTokens: 500,
        outputTokens: 1,
      },
      final: false,
      outputCharacters: "Hmm — 考える".length + "Hallå ".length + "värld 🙂".length,
      inputKnown: true,
    };
    expect(meter.snapshot()).toStrictEqual(expected);
    expect(meter.end()).toStrictEqual(expected);
    expect(meter.snapshot()).toStrictEqual(expected);
  });

  it("agrees with the usage of the Anthropic SDK's MessageStream", async () => {
    const pieces = randomSplits(
      encoder.encode(sse(anthropicEvents({ output_tokens: 420, input_tokens: 10 }), "\r\n")),
      random(11),
      50,
    );
    const client = new Anthropic({
      apiKey: "k",
      baseURL: "http://fake.invalid",
      maxRetries: 0,
      fetch: fakeFetch(pieces, "text/event-stream"),
    });
    const message = await client.messages
      .stream({ model: "claude-haiku-4-5", max_tokens: 1024, messages: [{ role: "user", content: "hi" }] })
      .finalMessage();
    const run = runMeter("anthropic.messages", { stream: true }, pieces);
    expect(run.result.usage).toStrictEqual(anthropicUsage(message.usage));
    expect(run.result.usage?.inputTokens).toBe(32010);
  });

  it("reads a JSON body at any chunking", () => {
    const body = encoder.encode(
      JSON.stringify({
        id: "msg_01",
        type: "message",
        role: "assistant",
        model: "claude-haiku-4-5",
        content: [{ type: "text", text: "Tschüß 👋", citations: null }],
        stop_reason: "end_turn",
        stop_sequence: null,
        usage: { ...ANTHROPIC_START_USAGE, output_tokens: 7 },
      }),
    );
    expectSplitIndependent("anthropic.messages", { stream: false }, body, {
      usage: {
        inputTokens: 32010,
        cachedInputTokens: 30000,
        cacheWriteInputTokens: 1500,
        cacheWrite1hInputTokens: 500,
        outputTokens: 7,
      },
      final: true,
      outputCharacters: "Tschüß 👋".length,
      inputKnown: true,
    });
  });
});

describe("createUsageMeter: Google generateContent", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("takes the latest running usageMetadata, CRLF-framed, at any chunking", () => {
    expectSplitIndependent(
      "google.generateContent",
      { stream: true },
      encoder.encode(sse(GEMINI_EVENTS, "\r\n")),
      GEMINI_RESULT,
    );
  });

  it("is not final before the chunk with finishReason", () => {
    const meter = createUsageMeter("google.generateContent", { stream: true });
    meter.push(encoder.encode(sse(GEMINI_EVENTS.slice(0, 2), "\r\n")));
    expect(meter.snapshot()).toStrictEqual({
      usage: { inputTokens: 1200, cachedInputTokens: 1024, outputTokens: 40, reasoningTokens: 37 },
      final: false,
      outputCharacters: "Planning the answer…".length + "Olá, ".length,
      inputKnown: true,
    });
  });

  it("agrees with the usage @google/genai delivers", async () => {
    const pieces = randomSplits(encoder.encode(sse(GEMINI_EVENTS, "\r\n")), random(13), 50);
    const ai = new GoogleGenAI({
      apiKey: "k",
      httpOptions: { baseUrl: "http://fake.invalid", fetch: fakeFetch(pieces, "text/event-stream") },
    });
    let last: unknown;
    for await (const chunk of await ai.models.generateContentStream({ model: "gemini-2.5-flash", contents: "hi" })) {
      last = chunk.usageMetadata ?? last;
    }
    expect(googleUsage(last)).toStrictEqual(GEMINI_RESULT.usage);
  });

  it("agrees with the usage @google/generative-ai delivers", async () => {
    const pieces = randomSplits(encoder.encode(sse(GEMINI_EVENTS, "\r\n")), random(17), 50);
    vi.stubGlobal("fetch", fakeFetch(pieces, "text/event-stream"));
    const model = new GoogleGenerativeAI("k").getGenerativeModel(
      { model: "gemini-2.5-flash" },
      { baseUrl: "http://fake.invalid" },
    );
    const result = await model.generateContentStream("hi");
    for await (const _chunk of result.stream) {
      // drain
    }
    expect(googleUsage((await result.response).usageMetadata)).toStrictEqual(GEMINI_RESULT.usage);
  });

  it("reads a JSON body at any chunking", () => {
    const body = encoder.encode(JSON.stringify(GEMINI_EVENTS[2]!.data));
    expectSplitIndependent("google.generateContent", { stream: false }, body, {
      ...GEMINI_RESULT,
      outputCharacters: "mundo 🌎".length,
    });
  });
});

describe("createUsageMeter: Google embedContent", () => {
  it("has no usage for a Gemini API body, which reports none", () => {
    const body = encoder.encode(JSON.stringify({ embeddings: [{ values: [0.013, -0.008] }] }));
    expect(runMeter("google.embedContent", { stream: false }, [body]).result).toStrictEqual({
      usage: undefined,
      final: false,
      outputCharacters: 0,
      inputKnown: false,
    });
  });
});

describe("createUsageMeter: damaged bodies", () => {
  it("skips a malformed event and still reads the usage after it", () => {
    const text =
      sse(CHAT_EVENTS.slice(0, 3)) +
      'data: {"id":"chatcmpl-x","choices":[{"delta":{"content":"lo\n\n' +
      "data: \u0000not json at all}\n\n" +
      "data: null\n\n" +
      'data: {"choices":"nope","usage":{"prompt_tokens":"many"}}\n\n' +
      sse([...CHAT_EVENTS.slice(3), CHAT_USAGE_EVENT, DONE_EVENT]);
    expectSplitIndependent("openai.chat", { stream: true }, encoder.encode(text), CHAT_RESULT);
  });

  it("never throws on random bytes, for any operation, JSON or stream", () => {
    const next = random(23);
    const operations: OperationKind[] = [
      "openai.chat",
      "openai.responses",
      "openai.embeddings",
      "anthropic.messages",
      "google.generateContent",
      "google.embedContent",
    ];
    for (let round = 0; round < 60; round++) {
      const noise = Uint8Array.from({ length: 2000 }, () =>
        next() < 0.1 ? 0x0a : next() < 0.05 ? 0x0d : Math.floor(next() * 256),
      );
      for (const operation of operations) {
        for (const stream of [true, false]) {
          const run = runMeter(operation, { stream, hideUsageChunk: true }, randomSplits(noise, next, 100));
          expect(run.result.final).toBe(false);
        }
      }
    }
  });

  it("keeps the usage seen before a stream is cut in the middle of an event", () => {
    const events = responsesEvents("response.completed");
    const full = encoder.encode(sse([...events, ...events.slice(0, 2)]));
    const cut = full.subarray(0, full.length - 25);
    expectSplitIndependent("openai.responses", { stream: true }, cut, RESPONSES_RESULT);
  });

  it("has no usage for a truncated JSON body, and snapshot() knows nothing before end()", () => {
    const body = encoder.encode(JSON.stringify({ choices: [], usage: CHAT_USAGE }));
    const meter = createUsageMeter("openai.chat", { stream: false });
    expect(meter.push(body.subarray(0, 30))).toStrictEqual(body.subarray(0, 30));
    expect(meter.snapshot()).toStrictEqual({ usage: undefined, final: false, outputCharacters: 0, inputKnown: false });
    expect(meter.end()).toStrictEqual({ usage: undefined, final: false, outputCharacters: 0, inputKnown: false });

    const complete = createUsageMeter("openai.chat", { stream: false });
    complete.push(body);
    expect(complete.end().usage).toStrictEqual(openAiChatUsage(CHAT_USAGE));
    expect(complete.snapshot().final).toBe(true);
  });
});
