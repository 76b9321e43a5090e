import { hasCode, TollgateError } from "./tollgate-error";

/** The subject (or one of its scopes) is on the block list, set by `guard.block()` or a detector's quarantine. */
export class BlockedError extends TollgateError {
  declare readonly code: "BLOCKED";
  /** The blocked scope, e.g. `user` or `ip`. */
  readonly blockedScope: string;
  readonly reason: string | undefined;
  /** When the block lifts by itself; `undefined` for a block without a TTL. */
  readonly until: Date | undefined;

  constructor(blockedScope: string, reason: string | undefined, until: Date | undefined) {
    super("BLOCKED", `Calls are blocked for this ${blockedScope}${reason === undefined ? "" : `: ${reason}`}`);
    this.name = "BlockedError";
    this.blockedScope = blockedScope;
    this.reason = reason;
    this.until = until;
  }

  static override isInstance(error: unknown): error is BlockedError {
    return hasCode(error, ["BLOCKED"]);
  }
}
