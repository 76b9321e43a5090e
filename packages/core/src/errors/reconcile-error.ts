import { hasCode, TollgateError } from "./tollgate-error";

/**
 * A provider's usage or cost report could not be read during `reconcile()`: the request failed, was refused (a key
 * that is not an admin key answers 401 or 403) or came back in a shape Tollgate does not know. Nothing was compared.
 * The message never contains the admin key.
 */
export class ReconcileError extends TollgateError {
  declare readonly code: "RECONCILE_FAILED";
  readonly provider: "openai" | "anthropic";
  /** The report's path, e.g. `/v1/organization/usage/completions`. */
  readonly endpoint: string;
  /** The HTTP status, `undefined` when no response arrived. */
  readonly status: number | undefined;

  constructor(
    provider: "openai" | "anthropic",
    endpoint: string,
    status: number | undefined,
    problem: string,
    options?: { cause?: unknown },
  ) {
    const name = provider === "openai" ? "OpenAI" : "Anthropic";
    super("RECONCILE_FAILED", `Could not read the ${name} report GET ${endpoint}: ${problem}`, options);
    this.name = "ReconcileError";
    this.provider = provider;
    this.endpoint = endpoint;
    this.status = status;
  }

  static override isInstance(error: unknown): error is ReconcileError {
    return hasCode(error, ["RECONCILE_FAILED"]);
  }
}
