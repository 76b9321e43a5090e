import { hasCode, TollgateError } from "./tollgate-error";

/** The options given to Tollgate are invalid. `field` is the path of the first bad field, e.g. `limits[2].per`. */
export class ConfigurationError extends TollgateError {
  declare readonly code: "INVALID_CONFIG";
  readonly field: string;

  constructor(field: string, problem: string) {
    super("INVALID_CONFIG", `Invalid Tollgate option ${field}: ${problem}`);
    this.name = "ConfigurationError";
    this.field = field;
  }

  static override isInstance(error: unknown): error is ConfigurationError {
    return hasCode(error, ["INVALID_CONFIG"]);
  }
}
