import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export const sessionCookieName = "chat_session";

/**
 * Anonymous sessions, signed so a client cannot make up ids: `<id>.<HMAC-SHA256(secret, id)>`. In your app the
 * user id comes from your own login instead; what matters is that the server, not the request body, decides it.
 */
export function createSessionToken(secret: string): { id: string; token: string } {
  const id = randomBytes(16).toString("base64url");
  return { id, token: `${id}.${sign(secret, id)}` };
}

/** The session id of a token this server issued, or `undefined`. */
export function verifySessionToken(secret: string, token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  const [id, signature, ...rest] = token.split(".");
  if (id === undefined || signature === undefined || rest.length > 0 || !/^[\w-]{22}$/.test(id)) return undefined;
  const expected = Buffer.from(sign(secret, id));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected) ? id : undefined;
}

function sign(secret: string, id: string): string {
  return createHmac("sha256", secret).update(id).digest("base64url");
}

/** The value of one cookie from a `Cookie` header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const separator = part.indexOf("=");
    if (separator === -1) continue;
    if (part.slice(0, separator).trim() === name) return part.slice(separator + 1).trim();
  }
  return undefined;
}

/** `HttpOnly`: page scripts never see it; `SameSite=Strict`: other sites cannot spend a visitor's quota. */
export function sessionCookie(token: string, secure: boolean): string {
  return `${sessionCookieName}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000${secure ? "; Secure" : ""}`;
}
