import { readOutputCap, withOutputCap } from "../estimation/output-cap";
import { googleEmbedContentUsageReader, googleGenerateContentUsageReader } from "../usage/google-usage";
import type { OperationKind } from "../usage/operation";
import type { UsageReading } from "../usage/usage-reader";
import type { AdmittedCall } from "./gatekeeper";
import { type AdapterContext, isAbortError } from "./pending-calls";

type Method = (this: unknown, ...args: unknown[]) => Promise<unknown>;

interface LegacyClient {
  getGenerativeModel(modelParams: unknown, requestOptions?: unknown): LegacyModel;
  getGenerativeModelFromCachedContent(
    cachedContent: unknown,
    modelParams?: unknown,
    requestOptions?: unknown,
  ): LegacyModel;
}

interface LegacyModel {
  model: string;
  generationConfig?: Record<string, unknown>;
  startChat(params?: unknown): object;
}

interface StreamResult {
  stream: AsyncGenerator<unknown>;
  response: Promise<unknown>;
}

/**
 * Wraps a `GoogleGenerativeAI` client of the deprecated `@google/generative-ai`. That SDK has no fetch hook, so its
 * methods are wrapped: models handed out by the clone, and the chat sessions those models start (a `ChatSession`
 * calls module functions directly, not the model's methods). Usage is read from the SDK's own parsed responses.
 */
export function guardGenerativeAIClient<Client extends object>(client: Client, context: AdapterContext): Client {
  const original = client as unknown as LegacyClient;
  const clone = Object.assign(Object.create(Object.getPrototypeOf(client)) as LegacyClient, original);
  clone.getGenerativeModel = (modelParams, requestOptions) =>
    guardModel(original.getGenerativeModel(modelParams, requestOptions), context);
  clone.getGenerativeModelFromCachedContent = (cachedContent, modelParams, requestOptions) =>
    guardModel(original.getGenerativeModelFromCachedContent(cachedContent, modelParams, requestOptions), context);
  return clone as unknown as Client;
}

function guardModel(model: LegacyModel, context: AdapterContext): LegacyModel {
  const guarded = Object.create(model) as LegacyModel & Record<string, unknown>;
  const methods = model as unknown as Record<string, Method>;
  guarded.generateContent = guardedCall(methods.generateContent!, model, "google.generateContent", false, context);
  guarded.generateContentStream = guardedCall(
    methods.generateContentStream!,
    model,
    "google.generateContent",
    true,
    context,
  );
  guarded.embedContent = guardedCall(methods.embedContent!, model, "google.embedContent", false, context);
  guarded.batchEmbedContents = guardedCall(methods.batchEmbedContents!, model, "google.embedContent", false, context);
  guarded.startChat = (params?: unknown) => {
    const session = model.startChat(params) as Record<string, Method>;
    const guardedSession = Object.create(session) as Record<string, unknown>;
    guardedSession.sendMessage = guardedCall(
      session.sendMessage!,
      model,
      "google.generateContent",
      false,
      context,
      session,
    );
    guardedSession.sendMessageStream = guardedCall(
      session.sendMessageStream!,
      model,
      "google.generateContent",
      true,
      context,
      session,
    );
    return guardedSession;
  };
  return guarded;
}

/**
 * The request in the REST shape the estimator reads, with what the model adds to every request (its system
 * instruction, tools and cached content), as the SDK itself merges them.
 */
function restRequest(request: unknown, model: LegacyModel): Record<string, unknown> {
  const base =
    typeof request === "string" || Array.isArray(request) ? { contents: request } : { ...(request as object) };
  const defaults = model as unknown as Record<string, unknown>;
  return {
    systemInstruction: defaults.systemInstruction,
    tools: defaults.tools,
    toolConfig: defaults.toolConfig,
    cachedContent: defaults.cachedContent,
    ...base,
  };
}

function guardedCall(
  method: Method,
  model: LegacyModel,
  operation: OperationKind,
  stream: boolean,
  context: AdapterContext,
  target: object = model,
): Method {
  return async (request: unknown, ...rest: unknown[]) => {
    const params = restRequest(request, model);
    let outputCap = readOutputCap(operation, params, model.generationConfig);
    let sent = request;
    if (outputCap === undefined) {
      outputCap = context.options.defaultMaxOutputTokens;
      // The SDK replaces the model's generationConfig by a request's, so the cap is merged into whichever applies.
      sent = withOutputCap(operation, request, outputCap, model.generationConfig);
      outputCap = readOutputCap(operation, sent, model.generationConfig) ?? outputCap;
    }
    const call = await context.gatekeeper.admit({
      provider: "google",
      operation,
      model: model.model,
      params,
      outputCap,
      subject: context.subject,
      forOptions: context.forOptions,
    });
    let result: unknown;
    try {
      result = await method.call(target, sent, ...rest);
    } catch (error) {
      void context.gatekeeper.settle(call, isAbortError(error) ? aborted(noReading) : { kind: "failed" });
      throw error;
    }
    if (stream) return watchStream(result as StreamResult, call, operation, context);
    const response = (result as { response?: unknown }).response ?? result;
    void context.gatekeeper.settle(call, { kind: "completed", reading: readerFor(operation).readBody(response) });
    return result;
  };
}

const noReading: UsageReading = { usage: undefined, final: false, outputCharacters: 0 };

function aborted(reading: UsageReading) {
  return { kind: "aborted" as const, reading };
}

function readerFor(operation: OperationKind) {
  return operation === "google.embedContent" ? googleEmbedContentUsageReader : googleGenerateContentUsageReader;
}

/**
 * The stream result's `response` settles whether or not the caller reads `stream` (the SDK tees the body). Chunks
 * the caller does read are counted, so an aborted stream settles with the output it delivered.
 */
function watchStream(result: StreamResult, call: AdmittedCall, operation: OperationKind, context: AdapterContext) {
  let lastUsage: UsageReading["usage"];
  let outputCharacters = 0;
  const reader = readerFor(operation);
  async function* counted(): AsyncGenerator<unknown> {
    for await (const chunk of result.stream) {
      const reading = reader.readBody(chunk);
      lastUsage = reading.usage ?? lastUsage;
      outputCharacters += reading.outputCharacters;
      yield chunk;
    }
  }
  result.response.then(
    (response) => context.gatekeeper.settle(call, { kind: "completed", reading: reader.readBody(response) }),
    () => context.gatekeeper.settle(call, aborted({ usage: lastUsage, final: false, outputCharacters })),
  );
  return { ...result, stream: counted() };
}
