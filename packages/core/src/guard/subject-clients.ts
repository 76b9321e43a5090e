import type { Subject } from "../limits/subject";
import type { ForOptions } from "./gatekeeper";
import { guardGenAIClient } from "./genai-adapter";
import { guardGenerativeAIClient } from "./generative-ai-adapter";
import type { ProviderClients } from "./guard-options";
import type { AdapterContext } from "./pending-calls";
import { anthropicSurface, guardStainlessClient, openAISurface } from "./stainless-adapter";

/**
 * The guarded clients of one subject. Each provider's clone is built on first access: cloning an SDK client costs
 * tens of microseconds, and a request handler that calls `guard.for(subject).openai` should not also pay for the
 * Anthropic and Google clones it never touches.
 */
export function subjectClients(providers: ProviderClients, context: AdapterContext): ProviderClients {
  const guarded: ProviderClients = {};
  const { openai, anthropic, google } = providers;
  if (openai !== undefined) defineLazy(guarded, "openai", () => guardStainlessClient(openai, openAISurface, context));
  if (anthropic !== undefined) {
    defineLazy(guarded, "anthropic", () => guardStainlessClient(anthropic, anthropicSurface, context));
  }
  if (google !== undefined) {
    defineLazy(guarded, "google", () =>
      "getGenerativeModel" in google ? guardGenerativeAIClient(google, context) : guardGenAIClient(google, context),
    );
  }
  return guarded;
}

function defineLazy<Name extends keyof ProviderClients>(
  target: ProviderClients,
  name: Name,
  build: () => NonNullable<ProviderClients[Name]>,
): void {
  let built: NonNullable<ProviderClients[Name]> | undefined;
  Object.defineProperty(target, name, {
    enumerable: true,
    get: () => {
      built ??= build();
      return built;
    },
  });
}

/**
 * The last few subjects' guarded clients, so a subject that calls again (a chatty user, a bot hammering an endpoint)
 * reuses its clones instead of building new ones per request. Small on purpose: a clone holds a whole SDK client.
 */
export class SubjectClientCache {
  private readonly entries = new Map<string, ProviderClients>();

  constructor(private readonly capacity: number) {}

  get(key: string): ProviderClients | undefined {
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      // Re-insert: a Map iterates in insertion order, so the first entry is always the least recently used.
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  set(key: string, clients: ProviderClients): void {
    this.entries.set(key, clients);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }
}

/** Identifies a subject and its options; `undefined` values and absent ones are the same subject. */
export function subjectCacheKey(subject: Subject, options: ForOptions): string {
  return JSON.stringify([
    subject.user,
    subject.ip,
    subject.key,
    subject.tenant,
    subject.session,
    options.onLimit,
    options.maxWaitMs,
  ]);
}
