import { hasCode, TollgateError } from "./tollgate-error";

/** The same subject sent the same request too many times in a short window (a runaway loop). */
export class LoopDetectedError extends TollgateError {
  declare readonly code: "LOOP_DETECTED";
  readonly repeats: number;
  readonly windowMs: number;

  constructor(repeats: number, windowMs: number) {
    super("LOOP_DETECTED", `The same request was sent ${repeats} times within ${windowMs} ms`);
    this.name = "LoopDetectedError";
    this.repeats = repeats;
    this.windowMs = windowMs;
  }

  static override isInstance(error: unknown): error is LoopDetectedError {
    return hasCode(error, ["LOOP_DETECTED"]);
  }
}
