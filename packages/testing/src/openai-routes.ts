import { fakeEmbedding, toBase64Float32 } from "./fake-embedding";
import type { FakeUsage } from "./fake-usage";
import { replyWords, visibleOutputTokens } from "./fake-usage";
import { isRecord } from "./is-record";
import type { ProviderRoutes, RouteContext, RouteMatch } from "./provider-routes";
import { SseWriter } from "./sse";

/** OpenAI under `/v1`: chat completions, responses, embeddings and models, JSON and SSE. */
export const openAIRoutes: ProviderRoutes = {
  provider: "openai",
  match: matchOpenAIRoute,
  errorResponse: (status, message) => ({ body: { error: openAIErrorObject(status, message) } }),
  respond: respondOpenAI,
};

function matchOpenAIRoute(
  method: string,
  pathname: string,
  _query: URLSearchParams,
  body: unknown,
): RouteMatch | undefined {
  const model = isRecord(body) && typeof body.model === "string" ? body.model : undefined;
  const stream = isRecord(body) && body.stream === true;
  if (method === "POST" && pathname === "/v1/chat/completions") {
    return { operation: "openai.chat", model, stream };
  }
  if (method === "POST" && pathname === "/v1/responses") {
    return { operation: "openai.responses", model, stream };
  }
  if (method === "POST" && pathname === "/v1/embeddings") {
    return { operation: "openai.embeddings", model, stream: false };
  }
  if (method === "GET" && (pathname === "/v1/models" || pathname.startsWith("/v1/models/"))) {
    const modelId =
      pathname.length > "/v1/models/".length ? decodeURIComponent(pathname.slice("/v1/models/".length)) : undefined;
    return { operation: "openai.models", model: modelId, stream: false };
  }
  return undefined;
}

async function respondOpenAI(context: RouteContext): Promise<void> {
  switch (context.match.operation) {
    case "openai.chat":
      return context.match.stream ? streamChatCompletion(context) : sendChatCompletion(context);
    case "openai.responses":
      return context.match.stream ? streamResponse(context) : sendResponse(context);
    case "openai.embeddings":
      return sendEmbeddings(context);
    case "openai.models":
      return sendModels(context);
    default:
      throw new Error(`openai routes cannot answer ${context.match.operation}`);
  }
}

/** OpenAI's error `type`/`code` for common statuses, as the real API sends them. */
function openAIErrorObject(status: number, message: string): Record<string, unknown> {
  if (status === 429) {
    return { message, type: "requests", param: null, code: "rate_limit_exceeded" };
  }
  if (status >= 500) {
    return { message, type: "server_error", param: null, code: null };
  }
  if (status === 401) {
    return { message, type: "invalid_request_error", param: null, code: "invalid_api_key" };
  }
  return { message, type: "invalid_request_error", param: null, code: null };
}

// --- usage vocabulary -------------------------------------------------------------------------------------

/** Cache writes as OpenAI can express them: one `cache_write_tokens` count, with no 5-minute/1-hour split. */
function cacheWriteTokens(usage: Required<FakeUsage>): number {
  return usage.cacheWriteInputTokens + usage.cacheWrite1hInputTokens;
}

/** What a parser of OpenAI's wire gets back: the 1-hour writes folded into `cacheWriteInputTokens`. */
function reportedUsage(usage: Required<FakeUsage>): Required<FakeUsage> {
  return { ...usage, cacheWriteInputTokens: cacheWriteTokens(usage), cacheWrite1hInputTokens: 0 };
}

function chatUsageWire(usage: Required<FakeUsage>): Record<string, unknown> {
  const writes = cacheWriteTokens(usage);
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: {
      cached_tokens: usage.cachedInputTokens,
      audio_tokens: 0,
      ...(writes > 0 ? { cache_write_tokens: writes } : {}),
    },
    completion_tokens_details: {
      reasoning_tokens: usage.reasoningTokens,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function responsesUsageWire(usage: Required<FakeUsage>): Record<string, unknown> {
  return {
    input_tokens: usage.inputTokens,
    input_tokens_details: { cached_tokens: usage.cachedInputTokens, cache_write_tokens: cacheWriteTokens(usage) },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens },
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
}

// --- chat completions -------------------------------------------------------------------------------------

function chatBase(context: RouteContext, object: string): Record<string, unknown> {
  return {
    id: `chatcmpl-fake-${context.exchange.record.id}`,
    object,
    created: Math.floor(Date.now() / 1000),
    model: context.match.model ?? "unknown",
    service_tier: "default",
    system_fingerprint: "fp_fake",
  };
}

async function sendChatCompletion(context: RouteContext): Promise<void> {
  const { usage, exchange } = context;
  const omitUsage = exchange.fault.omitUsage === true;
  const text = replyWords(visibleOutputTokens(usage)).join("");
  const completion = {
    ...chatBase(context, "chat.completion"),
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: text, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: "stop",
      },
    ],
    ...(omitUsage ? {} : { usage: chatUsageWire(usage) }),
  };
  exchange.sendJson(200, completion, omitUsage ? undefined : reportedUsage(usage));
}

/**
 * `data:` lines only: a role chunk with empty content, one chunk per visible output token, a `finish_reason`
 * chunk, with `include_usage` a `choices: []` usage chunk (and `"usage": null` on every other chunk), then
 * `[DONE]`.
 */
async function streamChatCompletion(context: RouteContext): Promise<void> {
  const { usage, exchange, body } = context;
  const omitUsage = exchange.fault.omitUsage === true;
  const streamOptions = isRecord(body) ? body.stream_options : undefined;
  const includeUsage = isRecord(streamOptions) && streamOptions.include_usage === true && !omitUsage;
  const base = chatBase(context, "chat.completion.chunk");
  const chunk = (delta: Record<string, unknown>, finishReason: string | null) => ({
    ...base,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(includeUsage ? { usage: null } : {}),
  });

  const sse = new SseWriter(exchange, { lineEnding: "\n" });
  if (!(await sse.start())) {
    return;
  }
  if (!(await sse.send({ data: chunk({ role: "assistant", content: "", refusal: null }, null) }))) {
    return;
  }
  for (const word of replyWords(visibleOutputTokens(usage))) {
    if (!(await sse.send({ data: chunk({ content: word }, null) }))) {
      return;
    }
  }
  if (!(await sse.send({ data: chunk({}, "stop") }))) {
    return;
  }
  if (includeUsage) {
    const usageChunk = { ...base, choices: [], usage: chatUsageWire(usage) };
    if (!(await sse.send({ data: usageChunk }, reportedUsage(usage)))) {
      return;
    }
  }
  if (!(await sse.send({ data: "[DONE]" }))) {
    return;
  }
  sse.end();
}

// --- responses --------------------------------------------------------------------------------------------

function responseObject(
  context: RouteContext,
  status: "in_progress" | "completed",
  output: unknown[],
  usage: Record<string, unknown> | null,
): Record<string, unknown> {
  const body = isRecord(context.body) ? context.body : {};
  return {
    id: `resp_fake_${context.exchange.record.id}`,
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model: context.match.model ?? "unknown",
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: true,
    temperature: 1,
    text: { format: { type: "text" } },
    tool_choice: "auto",
    tools: [],
    top_p: 1,
    truncation: "disabled",
    usage,
    metadata: {},
  };
}

function messageItem(context: RouteContext, status: "in_progress" | "completed", content: unknown[]) {
  return { id: `msg_fake_${context.exchange.record.id}`, type: "message", status, role: "assistant", content };
}

function outputTextPart(text: string) {
  return { type: "output_text", text, annotations: [], logprobs: [] };
}

async function sendResponse(context: RouteContext): Promise<void> {
  const { usage, exchange } = context;
  const omitUsage = exchange.fault.omitUsage === true;
  const text = replyWords(visibleOutputTokens(usage)).join("");
  const output = [messageItem(context, "completed", [outputTextPart(text)])];
  const response = responseObject(context, "completed", output, omitUsage ? null : responsesUsageWire(usage));
  exchange.sendJson(200, response, omitUsage ? undefined : reportedUsage(usage));
}

/**
 * The named-event sequence `responses.stream()` needs: its accumulator throws "missing output at index 0" if
 * `output_item.added` or `content_part.added` is skipped, and it replaces its snapshot with the `response` of
 * `response.completed`, so that one must carry the full output.
 */
async function streamResponse(context: RouteContext): Promise<void> {
  const { usage, exchange } = context;
  const omitUsage = exchange.fault.omitUsage === true;
  const words = replyWords(visibleOutputTokens(usage));
  const text = words.join("");
  const itemId = `msg_fake_${exchange.record.id}`;
  const location = { item_id: itemId, output_index: 0, content_index: 0 };
  const completedItem = messageItem(context, "completed", [outputTextPart(text)]);
  let sequenceNumber = 0;
  const sse = new SseWriter(exchange, { lineEnding: "\n", malformedEventName: "response.output_text.delta" });
  const send = (type: string, fields: Record<string, unknown>, reported?: Required<FakeUsage>) =>
    sse.send({ event: type, data: { type, sequence_number: sequenceNumber++, ...fields } }, reported);

  if (!(await sse.start())) {
    return;
  }
  const steps: Array<() => Promise<boolean>> = [
    () => send("response.created", { response: responseObject(context, "in_progress", [], null) }),
    () => send("response.in_progress", { response: responseObject(context, "in_progress", [], null) }),
    () => send("response.output_item.added", { output_index: 0, item: messageItem(context, "in_progress", []) }),
    () => send("response.content_part.added", { ...location, part: outputTextPart("") }),
    ...words.map((word) => () => send("response.output_text.delta", { ...location, delta: word, logprobs: [] })),
    () => send("response.output_text.done", { ...location, text, logprobs: [] }),
    () => send("response.content_part.done", { ...location, part: outputTextPart(text) }),
    () => send("response.output_item.done", { output_index: 0, item: completedItem }),
    () =>
      send(
        "response.completed",
        {
          response: responseObject(context, "completed", [completedItem], omitUsage ? null : responsesUsageWire(usage)),
        },
        omitUsage ? undefined : reportedUsage(usage),
      ),
  ];
  for (const step of steps) {
    if (!(await step())) {
      return;
    }
  }
  sse.end();
}

// --- embeddings and models --------------------------------------------------------------------------------

/** One embedding per input item: a string, a token array, or an array of either. */
function embeddingInputs(input: unknown): unknown[] {
  if (Array.isArray(input) && input.length > 0 && typeof input[0] !== "number") {
    return input;
  }
  return [input];
}

async function sendEmbeddings(context: RouteContext): Promise<void> {
  const { usage, exchange, body } = context;
  const request = isRecord(body) ? body : {};
  const useBase64 = request.encoding_format === "base64";
  const data = embeddingInputs(request.input).map((item, index) => {
    const values = fakeEmbedding(typeof item === "string" ? item : JSON.stringify(item), request.dimensions);
    return { object: "embedding", index, embedding: useBase64 ? toBase64Float32(values) : values };
  });
  const omitUsage = exchange.fault.omitUsage === true;
  // Embeddings have no output, cache or reasoning fields on the wire.
  const reported: Required<FakeUsage> = {
    inputTokens: usage.inputTokens,
    cachedInputTokens: 0,
    cacheWriteInputTokens: 0,
    cacheWrite1hInputTokens: 0,
    outputTokens: 0,
    reasoningTokens: 0,
  };
  const response = {
    object: "list",
    data,
    model: context.match.model ?? "unknown",
    ...(omitUsage ? {} : { usage: { prompt_tokens: usage.inputTokens, total_tokens: usage.inputTokens } }),
  };
  exchange.sendJson(200, response, omitUsage ? undefined : reported);
}

async function sendModels(context: RouteContext): Promise<void> {
  const created = Math.floor(Date.now() / 1000);
  const modelObject = (id: string) => ({ id, object: "model", created, owned_by: "tollgate-fake" });
  if (context.match.model !== undefined) {
    context.exchange.sendJson(200, modelObject(context.match.model));
    return;
  }
  context.exchange.sendJson(200, { object: "list", data: context.modelIds.map(modelObject) });
}
