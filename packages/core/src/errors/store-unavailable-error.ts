import { hasCode, TollgateError } from "./tollgate-error";

/** The store did not answer (error or timeout) and `onStoreError` is `"deny"`. */
export class StoreUnavailableError extends TollgateError {
  declare readonly code: "STORE_UNAVAILABLE";

  constructor(message: string, options?: { cause?: unknown }) {
    super("STORE_UNAVAILABLE", message, options);
    this.name = "StoreUnavailableError";
  }

  static override isInstance(error: unknown): error is StoreUnavailableError {
    return hasCode(error, ["STORE_UNAVAILABLE"]);
  }
}
