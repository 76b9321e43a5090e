import { readOutputCap, withOutputCap } from "../estimation/output-cap";
import type { OperationKind } from "../usage/operation";

/**
 * The request as it will be sent, and the most output it can produce: the request's own cap, or the configured
 * default injected into a copy of it, so the worst case Tollgate reserved is the worst case the provider can bill.
 */
export function cappedRequest(
  operation: OperationKind,
  request: Record<string, unknown>,
  defaultMaxOutputTokens: number,
): { params: Record<string, unknown>; outputCap: number } {
  const params = { ...request };
  const cap = readOutputCap(operation, params);
  if (cap !== undefined) return { params, outputCap: cap };
  const capped = withOutputCap(operation, params, defaultMaxOutputTokens) as Record<string, unknown>;
  // Re-read: a request for several choices (`n`, `candidateCount`) may produce the cap once per choice.
  return { params: capped, outputCap: readOutputCap(operation, capped) ?? defaultMaxOutputTokens };
}
