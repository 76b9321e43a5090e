/** Misbehaviour to inject into a response. Fields combine; see the README for how each one shows up on the wire. */
export interface FakeFault {
  /** Delay before the response headers are sent. */
  latencyMs?: number;
  /** Delay between two SSE chunks of a stream (a slow stream). */
  chunkDelayMs?: number;
  /** Destroy the socket after this many SSE chunks of a stream: no terminator, no final usage. Streams only. */
  cutAfterChunks?: number;
  /** Respond with this status (400 and above) and the provider's JSON error body instead of a result. */
  status?: number;
  /** Adds a `retry-after` header with this many seconds (fractions allowed, the SDKs parse them). */
  retryAfterSeconds?: number;
  /** Adds `x-should-retry: true|false`, which the OpenAI and Anthropic SDKs obey over their own policy. */
  shouldRetry?: boolean;
  /** Respond normally but without any usage fields. */
  omitUsage?: boolean;
  /** Emit one SSE data line that is not JSON right after the first chunk of a stream. */
  malformedStream?: boolean;
}

/** Later faults win field by field, so a header override can tweak one field of a rule's fault. */
export function mergeFaults(faults: ReadonlyArray<FakeFault | undefined>): FakeFault {
  const merged: FakeFault = {};
  for (const fault of faults) {
    if (fault !== undefined) {
      Object.assign(merged, fault);
    }
  }
  return merged;
}

/** The injected error status, if the fault asks for an error response. */
export function errorStatusOf(fault: FakeFault): number | undefined {
  return fault.status !== undefined && fault.status >= 400 && fault.status <= 599 ? fault.status : undefined;
}

/** Headers the fault adds to any response, error or not. */
export function faultHeaders(fault: FakeFault): Record<string, string> {
  const headers: Record<string, string> = {};
  if (fault.retryAfterSeconds !== undefined) {
    headers["retry-after"] = String(fault.retryAfterSeconds);
  }
  if (fault.shouldRetry !== undefined) {
    headers["x-should-retry"] = fault.shouldRetry ? "true" : "false";
  }
  return headers;
}

/**
 * Waits `ms`, or less if `signal` aborts first (the client went away, so there is nobody left to be slow for).
 * Never rejects: callers check the connection state afterwards.
 */
export function delay(ms: number | undefined, signal: AbortSignal): Promise<void> {
  if (ms === undefined || ms <= 0 || signal.aborted) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", finish);
      resolve();
    };
    const timer = setTimeout(finish, ms);
    signal.addEventListener("abort", finish, { once: true });
  });
}
