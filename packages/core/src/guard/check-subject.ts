import { ConfigurationError } from "../errors/configuration-error";
import { subjectScopes } from "../limits/limit-config";
import type { Subject } from "../limits/subject";

/** Validates a subject passed to `guard.for()`, `check()` or `block()`. */
export function checkSubject(subject: Subject): void {
  if (typeof subject !== "object" || subject === null) {
    throw new ConfigurationError("subject", "must be an object such as { user, ip }");
  }
  for (const [name, value] of Object.entries(subject)) {
    if (!subjectScopes.includes(name as keyof Subject)) {
      throw new ConfigurationError(`subject.${name}`, `is not a scope (${subjectScopes.join(", ")})`);
    }
    if (value !== undefined && (typeof value !== "string" || value.length === 0)) {
      throw new ConfigurationError(`subject.${name}`, "must be a non-empty string");
    }
  }
}
