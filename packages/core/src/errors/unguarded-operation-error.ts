import { hasCode, TollgateError } from "./tollgate-error";

/** A paid operation Tollgate cannot meter was called; allow it by name in `allowUnguarded` to let it through unmetered. */
export class UnguardedOperationError extends TollgateError {
  declare readonly code: "UNGUARDED_OPERATION";

  constructor(message: string, options?: { cause?: unknown }) {
    super("UNGUARDED_OPERATION", message, options);
    this.name = "UnguardedOperationError";
  }

  static override isInstance(error: unknown): error is UnguardedOperationError {
    return hasCode(error, ["UNGUARDED_OPERATION"]);
  }
}
