import { UnguardedOperationError } from "../errors/unguarded-operation-error";
import type { OperationKind } from "../usage/operation";
import { createCallId } from "./call-id";
import { cappedRequest } from "./capped-request";
import { type AdapterContext, isAbortError, type PendingCall } from "./pending-calls";
import { meterResponse } from "./transport-tap";

type AsyncMethod = (params: unknown) => Promise<unknown>;

interface GenAIClient {
  models: Record<string, unknown>;
  chats: { constructor: new (models: unknown, apiClient: unknown) => unknown };
  apiClient: { clientOptions?: { httpOptions?: { fetch?: typeof globalThis.fetch } } };
}

/** `models` methods that are metered, by operation. */
const guardedModelMethods: Readonly<Record<string, OperationKind>> = {
  generateContent: "google.generateContent",
  generateContentStream: "google.generateContent",
  embedContent: "google.embedContent",
};

/** `models` methods that cost nothing. */
const freeModelMethods = new Set(["countTokens", "computeTokens", "get", "list", "update", "delete"]);

/** Sub-clients whose every method is paid and unmetered: refused unless allowed by name. */
const paidModules = ["batches", "caches", "live", "tunings", "interactions"];

/**
 * Wraps a `GoogleGenAI` client of `@google/genai`. Its `models` methods are arrow functions on the instance, so the
 * clone gets its own `models` object with guarded copies, and its own `chats` built on that object (chats call
 * `models.generateContent*`). Metering uses the per-request `httpOptions.fetch` the SDK supports, bound to the call.
 */
export function guardGenAIClient<Client extends object>(client: Client, context: AdapterContext): Client {
  const original = client as unknown as GenAIClient;
  const clone = Object.assign(Object.create(Object.getPrototypeOf(client)) as GenAIClient, original);
  const models = Object.assign(Object.create(Object.getPrototypeOf(original.models)) as object, original.models);
  for (const [name, value] of Object.entries(original.models)) {
    if (typeof value !== "function") continue;
    const operation = guardedModelMethods[name];
    if (operation !== undefined) {
      (models as Record<string, unknown>)[name] = guardedMethod(
        value as AsyncMethod,
        operation,
        name === "generateContentStream",
        original,
        context,
      );
    } else if (!freeModelMethods.has(name)) {
      (models as Record<string, unknown>)[name] = refusedMethod(`google:models.${name}`, context);
    }
  }
  clone.models = models as Record<string, unknown>;
  clone.chats = new original.chats.constructor(models, original.apiClient) as GenAIClient["chats"];
  for (const moduleName of paidModules) {
    const module = (original as unknown as Record<string, unknown>)[moduleName];
    if (typeof module !== "object" || module === null) continue;
    const guardedModule = Object.create(module) as Record<string, unknown>;
    for (const name of methodNames(module)) {
      if (name === "constructor" || name === "get" || name === "list" || name === "delete") continue;
      guardedModule[name] = refusedMethod(
        `google:${moduleName}.${name}`,
        context,
        (module as Record<string, AsyncMethod>)[name],
      );
    }
    // Some modules are lazy getters on the prototype (`interactions`): shadow them with an own property.
    Object.defineProperty(clone, moduleName, { value: guardedModule, configurable: true, enumerable: true });
  }
  return clone as unknown as Client;
}

function methodNames(object: object): string[] {
  const names = new Set<string>();
  for (
    let node: object | null = object;
    node !== null && node !== Object.prototype;
    node = Object.getPrototypeOf(node)
  ) {
    for (const name of Object.getOwnPropertyNames(node)) {
      if (typeof (object as Record<string, unknown>)[name] === "function") names.add(name);
    }
  }
  return [...names];
}

function refusedMethod(name: string, context: AdapterContext, allowed?: AsyncMethod): AsyncMethod {
  return async function refused(this: unknown, params: unknown) {
    if (context.options.allowUnguarded.has(name) && allowed !== undefined) return allowed.call(this, params);
    throw new UnguardedOperationError(
      `${name} costs money and Tollgate cannot meter it; add "${name}" to allowUnguarded to let it through unmetered`,
    );
  };
}

function guardedMethod(
  method: AsyncMethod,
  operation: OperationKind,
  stream: boolean,
  client: GenAIClient,
  context: AdapterContext,
): AsyncMethod {
  return async (input: unknown) => {
    if (typeof input !== "object" || input === null) return method(input);
    const request = input as { model?: unknown; config?: Record<string, unknown> };
    const { params, outputCap } = cappedRequest(operation, request, context.options.defaultMaxOutputTokens);
    const callId = createCallId();
    const pending = context.calls.open(
      callId,
      {
        provider: "google",
        operation,
        model: String(request.model),
        params,
        outputCap,
        subject: context.subject,
        forOptions: context.forOptions,
      },
      stream,
      false,
    );
    try {
      await context.calls.admit(pending);
    } catch (error) {
      pending.metered.finishMethod("failed");
      throw error;
    }
    const config = { ...(params.config as Record<string, unknown> | undefined) };
    const httpOptions = { ...(config.httpOptions as Record<string, unknown> | undefined) };
    const inner =
      (httpOptions.fetch as typeof globalThis.fetch | undefined) ??
      client.apiClient.clientOptions?.httpOptions?.fetch ??
      globalThis.fetch;
    httpOptions.fetch = meteredFetch(inner, pending);
    config.httpOptions = httpOptions;
    let result: unknown;
    try {
      result = await method({ ...params, config });
    } catch (error) {
      pending.metered.finishMethod(isAbortError(error) ? "aborted" : "failed");
      throw error;
    }
    if (!stream) {
      pending.metered.finishMethod("done");
      return result;
    }
    return watchGenerator(result as AsyncGenerator<unknown>, pending);
  };
}

function meteredFetch(inner: typeof globalThis.fetch, pending: PendingCall): typeof globalThis.fetch {
  return async (input, init) => {
    const response = await inner(input, init);
    return response.ok ? meterResponse(response, pending.metered) : response;
  };
}

/**
 * A Gemini stream is a plain async generator (no helpers to preserve), so it is wrapped to learn when the caller
 * is done with it; the bytes themselves are metered at the transport.
 */
async function* watchGenerator(stream: AsyncGenerator<unknown>, pending: PendingCall): AsyncGenerator<unknown> {
  let state: "done" | "aborted" = "aborted";
  try {
    yield* stream;
    state = "done";
  } finally {
    pending.metered.finishMethod(state);
  }
}
