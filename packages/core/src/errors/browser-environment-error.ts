import { hasCode, TollgateError } from "./tollgate-error";

/** Tollgate was loaded in a browser, where the provider key would ship to every visitor. */
export class BrowserEnvironmentError extends TollgateError {
  declare readonly code: "BROWSER_ENVIRONMENT";

  constructor(message: string, options?: { cause?: unknown }) {
    super("BROWSER_ENVIRONMENT", message, options);
    this.name = "BrowserEnvironmentError";
  }

  static override isInstance(error: unknown): error is BrowserEnvironmentError {
    return hasCode(error, ["BROWSER_ENVIRONMENT"]);
  }
}
