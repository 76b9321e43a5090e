import type { Subject } from "../limits/subject";
import type { ProviderName } from "../usage/token-usage";
import type { AdmittedCall, CallOutcome, CallRequest, ForOptions, Gatekeeper } from "./gatekeeper";
import type { ResolvedOptions } from "./guard-options";
import { MeteredCall } from "./transport-tap";

/** What an SDK adapter needs from its guard to wrap one client for one subject. */
export interface AdapterContext {
  gatekeeper: Gatekeeper;
  options: ResolvedOptions;
  calls: PendingCalls;
  subject: Subject;
  forOptions: ForOptions;
}

/** A call between the SDK method that started it and its settlement. */
export interface PendingCall {
  request: CallRequest;
  metered: MeteredCall;
  /** Admission starts lazily (at the SDK's first attempt) and is shared by its retries. */
  admission: Promise<AdmittedCall> | undefined;
}

/**
 * Guarded calls in flight, by call id: the bridge between the SDK layer (which admits) and the transport tap
 * (which meters). An entry leaves the map when its call settles.
 */
export class PendingCalls {
  private readonly calls = new Map<string, PendingCall>();

  constructor(private readonly gatekeeper: Gatekeeper) {}

  open(callId: string, request: CallRequest, stream: boolean, hideUsageChunk: boolean): PendingCall {
    const pending: PendingCall = {
      request,
      admission: undefined,
      metered: new MeteredCall(request.operation, stream, hideUsageChunk, (outcome) => this.finish(callId, outcome)),
    };
    this.calls.set(callId, pending);
    return pending;
  }

  get(callId: string): PendingCall | undefined {
    return this.calls.get(callId);
  }

  /** Admits the call once; later attempts (SDK retries) share the same admission. */
  admit(pending: PendingCall): Promise<AdmittedCall> {
    pending.admission ??= this.gatekeeper.admit(pending.request);
    return pending.admission;
  }

  private finish(callId: string, outcome: CallOutcome): void {
    const pending = this.calls.get(callId);
    this.calls.delete(callId);
    pending?.admission?.then(
      (call) => this.gatekeeper.settle(call, outcome),
      () => undefined, // refused: nothing was reserved
    );
  }
}

export function providerOf(operation: CallRequest["operation"]): ProviderName {
  return operation.slice(0, operation.indexOf(".")) as ProviderName;
}

/** `true` for the errors SDKs raise when the caller aborted (APIUserAbortError, DOMException AbortError). */
export function isAbortError(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const name = (error as { name?: unknown }).name;
  return name === "AbortError" || name === "APIUserAbortError";
}
