import type { IncomingHttpHeaders } from "node:http";

/** What replaces a secret in the request log. */
export const redactedValue = "[redacted]";

/** Headers that carry credentials in at least one of the SDKs (or a proxy in front of them). */
const credentialHeaderNames = new Set([
  "authorization",
  "proxy-authorization",
  "x-api-key",
  "x-goog-api-key",
  "api-key",
  "cookie",
  "set-cookie",
]);

/** Header names that suggest a secret even if we have never seen them. */
const secretLookingName = /(?:api[-_]?key|secret|token|password|credential)/i;

/**
 * Values that look like a key wherever they appear: OpenAI/Anthropic `sk-…`, Stripe-style `sk_…`/`rk_…`,
 * Google `AIza…`, and any bearer token. Logs end up in CI output and snapshots, so err on the side of hiding.
 */
const secretLookingValue = /(?:\b(?:sk|rk|pk)[-_][A-Za-z0-9_-]{6,}|\bAIza[0-9A-Za-z_-]{10,}|^\s*bearer\s)/i;

/** Lower-cased, flattened headers with every credential replaced by `[redacted]`. */
export function redactHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const redacted: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) {
      continue;
    }
    const lowerName = name.toLowerCase();
    const flatValue = Array.isArray(value) ? value.join(", ") : value;
    redacted[lowerName] = isSecret(lowerName, flatValue) ? redactedValue : flatValue;
  }
  return redacted;
}

/** Query parameters with Google's `key` parameter and any key-looking value replaced by `[redacted]`. */
export function redactQuery(searchParams: URLSearchParams): Record<string, string> {
  const redacted: Record<string, string> = {};
  for (const [name, value] of searchParams) {
    redacted[name] = name === "key" || isSecret(name.toLowerCase(), value) ? redactedValue : value;
  }
  return redacted;
}

function isSecret(lowerName: string, value: string): boolean {
  return credentialHeaderNames.has(lowerName) || secretLookingName.test(lowerName) || secretLookingValue.test(value);
}
