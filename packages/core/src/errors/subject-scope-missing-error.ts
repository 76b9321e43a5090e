import { hasCode, TollgateError } from "./tollgate-error";

/** A limit needs a scope (user, ip, key, tenant, session) that the subject of the call does not carry. */
export class SubjectScopeMissingError extends TollgateError {
  declare readonly code: "MISSING_SCOPE";

  constructor(message: string, options?: { cause?: unknown }) {
    super("MISSING_SCOPE", message, options);
    this.name = "SubjectScopeMissingError";
  }

  static override isInstance(error: unknown): error is SubjectScopeMissingError {
    return hasCode(error, ["MISSING_SCOPE"]);
  }
}
