import type { FakeUsage } from "./fake-usage";
import { replyWords, visibleOutputTokens } from "./fake-usage";
import { isRecord } from "./is-record";
import type { ProviderRoutes, RouteContext, RouteMatch } from "./provider-routes";
import { SseWriter } from "./sse";

/** Anthropic's Messages API: `/v1/messages` (JSON and named-event SSE) and `/v1/messages/count_tokens`. */
export const anthropicRoutes: ProviderRoutes = {
  provider: "anthropic",
  match: matchAnthropicRoute,
  errorResponse: (status, message) => ({
    body: { type: "error", error: { type: anthropicErrorType(status), message }, request_id: null },
    ...(status === 529 ? { statusMessage: "Overloaded" } : {}),
  }),
  respond: respondAnthropic,
};

function matchAnthropicRoute(
  method: string,
  pathname: string,
  _query: URLSearchParams,
  body: unknown,
): RouteMatch | undefined {
  if (method !== "POST") {
    return undefined;
  }
  const model = isRecord(body) && typeof body.model === "string" ? body.model : undefined;
  // `beta.messages` uses the same paths with `?beta=true`, which the match ignores on purpose.
  if (pathname === "/v1/messages") {
    return { operation: "anthropic.messages", model, stream: isRecord(body) && body.stream === true };
  }
  if (pathname === "/v1/messages/count_tokens") {
    return { operation: "anthropic.countTokens", model, stream: false };
  }
  return undefined;
}

async function respondAnthropic(context: RouteContext): Promise<void> {
  if (context.match.operation === "anthropic.countTokens") {
    context.exchange.sendJson(200, { input_tokens: context.usage.inputTokens });
    return;
  }
  return context.match.stream ? streamMessage(context) : sendMessage(context);
}

/** Anthropic's `error.type` for a status, as in its API reference (529 is `overloaded_error`). */
function anthropicErrorType(status: number): string {
  switch (status) {
    case 400:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 402:
      return "billing_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 504:
      return "timeout_error";
    case 529:
      return "overloaded_error";
    default:
      return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

// --- usage vocabulary -------------------------------------------------------------------------------------

/** Anthropic's `input_tokens` excludes the cache parts, which it reports beside it. */
function uncachedInputTokens(usage: Required<FakeUsage>): number {
  return usage.inputTokens - usage.cachedInputTokens - usage.cacheWriteInputTokens - usage.cacheWrite1hInputTokens;
}

function inputUsageWire(usage: Required<FakeUsage>): Record<string, unknown> {
  return {
    input_tokens: uncachedInputTokens(usage),
    cache_creation_input_tokens: usage.cacheWriteInputTokens + usage.cacheWrite1hInputTokens,
    cache_read_input_tokens: usage.cachedInputTokens,
  };
}

function outputTokensDetails(usage: Required<FakeUsage>): Record<string, unknown> | null {
  return usage.reasoningTokens > 0 ? { thinking_tokens: usage.reasoningTokens } : null;
}

/** The full `Usage` object of a message; `outputTokens` is what to report as `output_tokens` at this point. */
function messageUsageWire(usage: Required<FakeUsage>, outputTokens: number): Record<string, unknown> {
  return {
    ...inputUsageWire(usage),
    cache_creation: {
      ephemeral_5m_input_tokens: usage.cacheWriteInputTokens,
      ephemeral_1h_input_tokens: usage.cacheWrite1hInputTokens,
    },
    output_tokens: outputTokens,
    output_tokens_details: outputTokens === usage.outputTokens ? outputTokensDetails(usage) : null,
    server_tool_use: null,
    service_tier: "standard",
  };
}

// --- messages ---------------------------------------------------------------------------------------------

function messageObject(context: RouteContext, content: unknown[], stopReason: string | null, usage: unknown) {
  return {
    id: `msg_fake_${context.exchange.record.id}`,
    type: "message",
    role: "assistant",
    model: context.match.model ?? "unknown",
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    ...(usage === undefined ? {} : { usage }),
  };
}

async function sendMessage(context: RouteContext): Promise<void> {
  const { usage, exchange } = context;
  const omitUsage = exchange.fault.omitUsage === true;
  const text = replyWords(visibleOutputTokens(usage)).join("");
  const message = messageObject(
    context,
    [{ type: "text", text }],
    "end_turn",
    omitUsage ? undefined : messageUsageWire(usage, usage.outputTokens),
  );
  exchange.sendJson(200, message, omitUsage ? undefined : usage);
}

/**
 * `message_start` (input and cache counts, `output_tokens` 1), `content_block_start`, `ping`, one
 * `content_block_delta` per visible output token, `content_block_stop`, `message_delta` (cumulative
 * `output_tokens` plus the input fields) and `message_stop`. Every event is named: the SDK skips unnamed ones.
 */
async function streamMessage(context: RouteContext): Promise<void> {
  const { usage, exchange } = context;
  const omitUsage = exchange.fault.omitUsage === true;
  const sse = new SseWriter(exchange, { lineEnding: "\n", malformedEventName: "content_block_delta" });
  const send = (type: string, fields: Record<string, unknown>, reported?: Required<FakeUsage>) =>
    sse.send({ event: type, data: { type, ...fields } }, reported);
  const startUsage = omitUsage ? undefined : messageUsageWire(usage, Math.min(1, usage.outputTokens));
  const deltaUsage = {
    ...inputUsageWire(usage),
    output_tokens: usage.outputTokens,
    output_tokens_details: outputTokensDetails(usage),
    server_tool_use: null,
  };

  if (!(await sse.start())) {
    return;
  }
  const steps: Array<() => Promise<boolean>> = [
    () => send("message_start", { message: messageObject(context, [], null, startUsage) }),
    () => send("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
    () => send("ping", {}),
    ...replyWords(visibleOutputTokens(usage)).map(
      (word) => () => send("content_block_delta", { index: 0, delta: { type: "text_delta", text: word } }),
    ),
    () => send("content_block_stop", { index: 0 }),
    () =>
      send(
        "message_delta",
        { delta: { stop_reason: "end_turn", stop_sequence: null }, ...(omitUsage ? {} : { usage: deltaUsage }) },
        omitUsage ? undefined : usage,
      ),
    () => send("message_stop", {}),
  ];
  for (const step of steps) {
    if (!(await step())) {
      return;
    }
  }
  sse.end();
}
