import { describe, expect, it } from "vitest";
import { extractRequestText, type RequestText } from "./request-text";

/** A three-page PDF (page objects written three different ways), as base64. */
const threePagePdf = Buffer.from(
  [
    "%PDF-1.4",
    "1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj",
    "2 0 obj << /Type /Pages /Kids [3 0 R 4 0 R 5 0 R] /Count 3 >> endobj",
    "3 0 obj << /Type /Page /Parent 2 0 R >> endobj",
    "4 0 obj <</Type/Page/Parent 2 0 R>> endobj",
    "5 0 obj << /Type\n/Page >> endobj",
    "trailer << /Root 1 0 R >>",
    "%%EOF",
  ].join("\n"),
  "latin1",
).toString("base64");

/** A WAV file of `seconds` of silence, 8 kHz 16-bit mono (16,000 bytes per second), as base64. */
function silentWav(seconds: number): string {
  const dataBytes = seconds * 16_000;
  const buffer = Buffer.alloc(44 + dataBytes);
  buffer.write("RIFF", 0, "latin1");
  buffer.writeUInt32LE(36 + dataBytes, 4);
  buffer.write("WAVE", 8, "latin1");
  buffer.write("fmt ", 12, "latin1");
  buffer.writeUInt32LE(16, 16);
  buffer.writeUInt16LE(1, 20); // PCM
  buffer.writeUInt16LE(1, 22); // mono
  buffer.writeUInt32LE(8_000, 24); // sample rate
  buffer.writeUInt32LE(16_000, 28); // byte rate
  buffer.writeUInt16LE(2, 32); // block align
  buffer.writeUInt16LE(16, 34); // bits per sample
  buffer.write("data", 36, "latin1");
  buffer.writeUInt32LE(dataBytes, 40);
  return buffer.toString("base64");
}

/** `bytes` of arbitrary data as base64. */
function blob(bytes: number): string {
  return Buffer.alloc(bytes, 7).toString("base64");
}

const weatherTool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

function summary(request: RequestText): Partial<RequestText> {
  const { texts, media, unseen, messages, tools, tokenIds, names } = request;
  return { texts, media, unseen, messages, tools, tokenIds, names };
}

describe("OpenAI chat", () => {
  it("takes roles, names, string and part contents, refusals, tool calls and legacy function calls", () => {
    const request = extractRequestText("openai.chat", {
      model: "gpt-4o",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", name: "ann", content: [{ type: "text", text: "Weather in Paris?" }] },
        {
          role: "assistant",
          content: null,
          refusal: "no",
          tool_calls: [
            { id: "c1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
            { id: "c2", type: "custom", custom: { name: "grep", input: "rain" } },
          ],
          function_call: { name: "legacy", arguments: "{}" },
        },
        { role: "tool", tool_call_id: "c1", content: [{ type: "text", text: "12°C" }] },
      ],
    });
    expect(request.texts).toEqual([
      "system",
      "Be brief.",
      "user",
      "ann",
      "Weather in Paris?",
      "assistant",
      "no",
      "get_weather",
      '{"city":"Paris"}',
      "grep",
      "rain",
      "legacy",
      "{}",
      "tool",
      "12°C",
    ]);
    expect(request).toMatchObject({ messages: 4, names: 1, tools: 0, media: [], unseen: [] });
  });

  it("counts tools, legacy functions and a json_schema response format as JSON", () => {
    const schema = { name: "answer", schema: { type: "object", properties: { a: { type: "number" } } } };
    const request = extractRequestText("openai.chat", {
      messages: [{ role: "user", content: "hi" }],
      tools: [weatherTool],
      functions: [{ name: "f", parameters: {} }],
      response_format: { type: "json_schema", json_schema: schema },
    });
    expect(request.texts.slice(2)).toEqual([
      JSON.stringify(weatherTool),
      JSON.stringify({ name: "f", parameters: {} }),
      JSON.stringify(schema),
    ]);
    expect(request.tools).toBe(2);
  });

  it("turns images, audio and files into media instead of text", () => {
    const request = extractRequestText("openai.chat", {
      messages: [
        {
          role: "user",
          content: [
            { type: "image_url", image_url: { url: `data:image/png;base64,${blob(3_000)}`, detail: "low" } },
            { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
            { type: "input_audio", input_audio: { data: silentWav(2), format: "wav" } },
            { type: "input_audio", input_audio: { data: blob(6_000), format: "mp3" } },
            { type: "file", file: { file_data: `data:application/pdf;base64,${threePagePdf}`, filename: "a.pdf" } },
            { type: "file", file: { file_data: threePagePdf, filename: "b.PDF" } },
            { type: "file", file: { file_data: Buffer.from("plain text file").toString("base64"), filename: "c.txt" } },
            { type: "file", file: { file_id: "file-123" } },
          ],
        },
      ],
    });
    expect(request.texts).toEqual(["user", "plain text file"]);
    expect(request.media).toEqual([
      { kind: "image", detail: "low" },
      { kind: "image" },
      { kind: "audio", seconds: 2, bytes: 32_044 },
      { kind: "audio", bytes: 6_000 },
      { kind: "document", pages: 3, bytes: Buffer.from(threePagePdf, "base64").length },
      { kind: "document", pages: 3, bytes: Buffer.from(threePagePdf, "base64").length },
      { kind: "document" },
    ]);
    expect(request.unseen).toEqual(["file by reference"]);
  });

  it("flags input it cannot see: earlier audio answers and web search results", () => {
    const request = extractRequestText("openai.chat", {
      messages: [{ role: "assistant", audio: { id: "audio_1" } }],
      web_search_options: {},
    });
    expect(request.unseen).toEqual(["assistant audio by id", "web search results"]);
  });

  it("reads nothing from malformed params and never throws", () => {
    for (const params of [undefined, null, "text", 42, [], { messages: "nope" }, { messages: [null, 1, "x"] }]) {
      expect(() => extractRequestText("openai.chat", params)).not.toThrow();
    }
    expect(extractRequestText("openai.chat", { messages: [null, { content: 5 }] }).texts).toEqual([]);
  });
});

describe("OpenAI responses", () => {
  it("takes a string input and instructions", () => {
    const request = extractRequestText("openai.responses", { instructions: "Be brief.", input: "Hello" });
    expect(summary(request)).toMatchObject({ texts: ["Be brief.", "Hello"], messages: 2, unseen: [] });
  });

  it("takes message items, tool calls and their outputs, reasoning summaries", () => {
    const request = extractRequestText("openai.responses", {
      input: [
        { role: "user", content: "plain" },
        {
          type: "message",
          role: "user",
          content: [
            { type: "input_text", text: "look" },
            { type: "input_image", image_url: "https://example.com/a.png", detail: "high" },
            { type: "input_file", file_data: `data:application/pdf;base64,${threePagePdf}`, filename: "a.pdf" },
          ],
        },
        { type: "message", role: "assistant", content: [{ type: "output_text", text: "seen", annotations: [] }] },
        { type: "function_call", call_id: "c1", name: "get_weather", arguments: '{"city":"Oslo"}' },
        { type: "function_call_output", call_id: "c1", output: "3°C" },
        { type: "function_call_output", call_id: "c2", output: [{ type: "input_text", text: "part" }] },
        { type: "reasoning", id: "r1", summary: [{ type: "summary_text", text: "thought" }] },
      ],
      text: { format: { type: "json_schema", name: "x", schema: { type: "object" } } },
      tools: [{ type: "function", name: "get_weather", parameters: {} }],
    });
    expect(request.texts).toEqual([
      "user",
      "plain",
      "user",
      "look",
      "assistant",
      "seen",
      "get_weather",
      '{"city":"Oslo"}',
      "3°C",
      "part",
      "thought",
      JSON.stringify({ type: "function", name: "get_weather", parameters: {} }),
      JSON.stringify({ type: "json_schema", name: "x", schema: { type: "object" } }),
    ]);
    expect(request.messages).toBe(7);
    expect(request.tools).toBe(1);
    expect(request.media).toEqual([
      { kind: "image", detail: "high" },
      { kind: "document", pages: 3, bytes: Buffer.from(threePagePdf, "base64").length },
    ]);
    expect(request.unseen).toEqual([]);
  });

  it("flags server-side state and server tools", () => {
    const request = extractRequestText("openai.responses", {
      input: [
        { type: "item_reference", id: "msg_1" },
        { type: "reasoning", summary: [], encrypted_content: "xyz" },
      ],
      previous_response_id: "resp_1",
      conversation: "conv_1",
      prompt: { id: "pmpt_1", variables: { city: "Rome" } },
      tools: [{ type: "web_search" }, { type: "file_search", vector_store_ids: ["vs"] }, { type: "custom", name: "c" }],
    });
    expect(request.unseen).toEqual([
      "item_reference",
      "encrypted reasoning",
      "server tool web_search",
      "server tool file_search",
      "previous_response_id",
      "conversation",
      "prompt template",
    ]);
    expect(request.texts).toContain("Rome");
  });

  it("falls back to every string of an unknown item, data URLs as media, encrypted blobs flagged", () => {
    const request = extractRequestText("openai.responses", {
      input: [
        {
          type: "future_item",
          id: "x1",
          note: "hello",
          shot: `data:image/jpeg;base64,${blob(10)}`,
          encrypted_content: "e",
        },
      ],
    });
    expect(request.texts).toEqual(["hello"]);
    expect(request.media).toEqual([{ kind: "image" }]);
    expect(request.unseen).toEqual(["opaque encrypted_content"]);
  });
});

describe("OpenAI embeddings", () => {
  it("takes a string, strings, and token arrays by length", () => {
    expect(summary(extractRequestText("openai.embeddings", { input: "one" }))).toMatchObject({
      texts: ["one"],
      tokenIds: 0,
    });
    expect(extractRequestText("openai.embeddings", { input: ["a", "b"] }).texts).toEqual(["a", "b"]);
    expect(extractRequestText("openai.embeddings", { input: [1, 2, 3] }).tokenIds).toBe(3);
    expect(
      extractRequestText("openai.embeddings", {
        input: [
          [1, 2],
          [3, 4, 5],
        ],
      }).tokenIds,
    ).toBe(5);
    expect(extractRequestText("openai.embeddings", { input: ["a", "b"] }).messages).toBe(0);
  });
});

describe("Anthropic messages", () => {
  it("takes system text or blocks, message blocks, tool use input as JSON and tool results", () => {
    const request = extractRequestText("anthropic.messages", {
      model: "claude-sonnet-4-5",
      max_tokens: 100,
      system: [{ type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } }],
      messages: [
        { role: "user", content: "Weather?" },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "need a tool", signature: "sig" },
            { type: "text", text: "Checking." },
            { type: "tool_use", id: "t1", name: "get_weather", input: { city: "Oslo" } },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "t1", content: "3°C" },
            {
              type: "tool_result",
              tool_use_id: "t2",
              content: [
                { type: "text", text: "chart:" },
                { type: "image", source: { type: "base64", media_type: "image/png", data: blob(100) } },
              ],
            },
          ],
        },
      ],
      tools: [{ name: "get_weather", input_schema: { type: "object" } }],
      output_config: { format: { type: "json_schema", schema: { type: "object" } } },
    });
    expect(request.texts).toEqual([
      "Be brief.",
      "Weather?",
      "need a tool",
      "Checking.",
      "get_weather",
      '{"city":"Oslo"}',
      "3°C",
      "chart:",
      JSON.stringify({ name: "get_weather", input_schema: { type: "object" } }),
      JSON.stringify({ type: "json_schema", schema: { type: "object" } }),
    ]);
    expect(request).toMatchObject({ messages: 4, tools: 1, media: [{ kind: "image" }], unseen: [] });
  });

  it("sizes documents: inline PDF by pages, plain text and content sources as text, URLs and files as unseen", () => {
    const request = extractRequestText("anthropic.messages", {
      system: "S",
      messages: [
        {
          role: "user",
          content: [
            { type: "document", source: { type: "base64", media_type: "application/pdf", data: threePagePdf } },
            { type: "document", title: "T", source: { type: "text", media_type: "text/plain", data: "doc text" } },
            { type: "document", source: { type: "content", content: [{ type: "text", text: "chunk" }] } },
            { type: "document", source: { type: "url", url: "https://example.com/a.pdf" } },
            {
              type: "search_result",
              title: "R",
              source: "https://example.com",
              content: [{ type: "text", text: "hit" }],
            },
          ],
        },
      ],
    });
    expect(request.texts).toEqual(["S", "T", "doc text", "chunk", "R", "https://example.com", "hit"]);
    expect(request.media).toEqual([
      { kind: "document", pages: 3, bytes: Buffer.from(threePagePdf, "base64").length },
      { kind: "document" },
    ]);
    expect(request.unseen).toEqual(["document by reference"]);
  });

  it("flags hidden definitions and server-side input", () => {
    const request = extractRequestText("anthropic.messages", {
      messages: [{ role: "assistant", content: [{ type: "redacted_thinking", data: "x" }] }],
      tools: [
        { type: "web_search_20250305", name: "web_search" },
        { type: "bash_20250124", name: "bash" },
      ],
      mcp_servers: [{ type: "url", url: "https://mcp.example.com", name: "m" }],
    });
    expect(request.unseen).toEqual([
      "redacted thinking",
      "tool web_search_20250305",
      "tool bash_20250124",
      "mcp_servers",
    ]);
  });
});

describe("Google generateContent, @google/genai shape", () => {
  it("takes contents as a string, a Content, Content[], a Part or parts", () => {
    const texts = (contents: unknown) =>
      extractRequestText("google.generateContent", { model: "gemini-2.5-flash", contents }).texts;
    expect(texts("hello")).toEqual(["hello"]);
    expect(texts({ role: "user", parts: [{ text: "a" }, { text: "b" }] })).toEqual(["a", "b"]);
    expect(
      texts([
        { role: "user", parts: [{ text: "a" }] },
        { role: "model", parts: [{ text: "b" }] },
      ]),
    ).toEqual(["a", "b"]);
    expect(texts({ text: "part" })).toEqual(["part"]);
    expect(texts(["x", { text: "y" }])).toEqual(["x", "y"]);
  });

  it("takes config.systemInstruction, function declarations, calls, responses and response schemas", () => {
    const declarations = { functionDeclarations: [{ name: "get_weather", parametersJsonSchema: { type: "object" } }] };
    const request = extractRequestText("google.generateContent", {
      model: "gemini-2.5-flash",
      contents: [
        { role: "user", parts: [{ text: "Weather?" }] },
        { role: "model", parts: [{ functionCall: { name: "get_weather", args: { city: "Oslo" } } }] },
        { role: "user", parts: [{ functionResponse: { name: "get_weather", response: { temp: 3 } } }] },
        { role: "model", parts: [{ executableCode: { code: "print(1)" } }, { codeExecutionResult: { output: "1" } }] },
      ],
      config: {
        systemInstruction: "Be brief.",
        tools: [declarations],
        responseJsonSchema: { type: "object" },
      },
    });
    expect(request.texts).toEqual([
      "Weather?",
      "get_weather",
      '{"city":"Oslo"}',
      "get_weather",
      '{"temp":3}',
      "print(1)",
      "1",
      "Be brief.",
      JSON.stringify(declarations),
      '{"type":"object"}',
    ]);
    expect(request).toMatchObject({ tools: 1, unseen: [] });
  });

  it("sizes inline and referenced media; decodes inline text", () => {
    const request = extractRequestText("google.generateContent", {
      model: "gemini-3-pro-preview",
      contents: [
        {
          role: "user",
          parts: [
            { inlineData: { mimeType: "image/png", data: blob(100) } },
            { inlineData: { mimeType: "image/jpeg", data: blob(100) }, mediaResolution: { numTokens: 70 } },
            { inlineData: { mimeType: "text/plain", data: Buffer.from("inline text").toString("base64") } },
            { inlineData: { mimeType: "audio/wav", data: silentWav(3) } },
            { inlineData: { mimeType: "video/mp4", data: blob(62_500) } },
            { inlineData: { mimeType: "application/pdf", data: threePagePdf } },
            {
              fileData: { mimeType: "video/mp4", fileUri: "https://generativelanguage.googleapis.com/v1beta/files/v1" },
              videoMetadata: { startOffset: "10s", endOffset: "40.5s" },
            },
            { fileData: { fileUri: "https://www.youtube.com/watch?v=x" } },
            { fileData: { mimeType: "application/pdf", fileUri: "gs://bucket/a.pdf" } },
          ],
        },
      ],
      config: { mediaResolution: "MEDIA_RESOLUTION_LOW" },
    });
    expect(request.texts).toEqual(["inline text"]);
    expect(request.media).toEqual([
      { kind: "image", resolution: "MEDIA_RESOLUTION_LOW" },
      { kind: "image", resolution: "MEDIA_RESOLUTION_LOW", tokens: 70 },
      { kind: "audio", seconds: 3, bytes: 48_044 },
      { kind: "video", bytes: 62_500 },
      { kind: "document", pages: 3, bytes: Buffer.from(threePagePdf, "base64").length },
      { kind: "video", seconds: 30.5 },
      { kind: "video" },
      { kind: "document" },
    ]);
    expect(request.unseen).toEqual(["media by reference", "file by reference"]);
  });

  it("flags cached contents, server tools and callable tools", () => {
    const request = extractRequestText("google.generateContent", {
      model: "gemini-2.5-flash",
      contents: "hi",
      config: {
        cachedContent: "cachedContents/abc",
        tools: [{ googleSearch: {} }, { tool: async () => ({}), callTool: async () => [] }],
      },
    });
    expect(request.unseen).toEqual(["server tool", "callable tool", "cachedContent"]);
  });
});

describe("Google generateContent, @google/generative-ai and REST shapes", () => {
  it("takes a bare string request", () => {
    expect(extractRequestText("google.generateContent", "Tell me a joke").texts).toEqual(["Tell me a joke"]);
  });

  it("takes a (string | Part)[] request", () => {
    const request = extractRequestText("google.generateContent", [
      "Describe",
      { inlineData: { mimeType: "image/png", data: blob(10) } },
      { text: "briefly" },
    ]);
    expect(request.texts).toEqual(["Describe", "briefly"]);
    expect(request.media).toEqual([{ kind: "image" }]);
  });

  it("takes { contents, systemInstruction, tools, generationConfig } with systemInstruction as string, Part or Content", () => {
    for (const systemInstruction of [
      "Be brief.",
      { text: "Be brief." },
      { role: "system", parts: [{ text: "Be brief." }] },
    ]) {
      const request = extractRequestText("google.generateContent", {
        contents: [{ role: "user", parts: [{ text: "Hi" }] }],
        systemInstruction,
        tools: [{ functionDeclarations: [{ name: "f" }] }],
        generationConfig: { maxOutputTokens: 10, responseSchema: { type: "STRING" } },
      });
      expect(request.texts).toEqual([
        "Hi",
        "Be brief.",
        JSON.stringify({ functionDeclarations: [{ name: "f" }] }),
        '{"type":"STRING"}',
      ]);
    }
  });

  it("takes the guard's REST form of a string request ({ contents: string })", () => {
    expect(extractRequestText("google.generateContent", { contents: "hello", generationConfig: {} }).texts).toEqual([
      "hello",
    ]);
  });
});

describe("Google embedContent", () => {
  it("takes the genai shape with a title", () => {
    const request = extractRequestText("google.embedContent", {
      model: "gemini-embedding-001",
      contents: ["first", "second"],
      config: { title: "Doc" },
    });
    expect(request.texts).toEqual(["first", "second", "Doc"]);
  });

  it("takes the old SDK's string, parts, { content, title } and batch requests", () => {
    expect(extractRequestText("google.embedContent", "text").texts).toEqual(["text"]);
    expect(extractRequestText("google.embedContent", ["a", { text: "b" }]).texts).toEqual(["a", "b"]);
    expect(
      extractRequestText("google.embedContent", { content: { role: "user", parts: [{ text: "c" }] }, title: "T" })
        .texts,
    ).toEqual(["c", "T"]);
    expect(
      extractRequestText("google.embedContent", {
        requests: [{ content: { parts: [{ text: "d" }] } }, { content: { parts: [{ text: "e" }] }, title: "U" }],
      }).texts,
    ).toEqual(["d", "e", "U"]);
  });
});

describe("robustness", () => {
  it("survives cyclic and BigInt values in tool definitions", () => {
    const schema: Record<string, unknown> = { type: "object", size: 10n };
    schema.self = schema;
    const request = extractRequestText("anthropic.messages", {
      messages: [],
      tools: [{ name: "t", input_schema: schema }],
    });
    expect(request.texts).toEqual(['{"name":"t","input_schema":{"type":"object","size":"10"}}']);
  });

  it("does not modify the params", () => {
    const params = Object.freeze({
      messages: Object.freeze([
        Object.freeze({ role: "user", content: Object.freeze([Object.freeze({ type: "text", text: "x" })]) }),
      ]),
    });
    expect(() => extractRequestText("openai.chat", params)).not.toThrow();
  });
});
