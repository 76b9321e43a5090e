import { createHash } from "node:crypto";
import type { SubjectScope } from "./limit-config";

/**
 * Who is making a call. Every field is optional; a limit whose scope the subject lacks refuses the call
 * (it is never waved through). Values are opaque strings of your choosing.
 */
export interface Subject {
  user?: string;
  ip?: string;
  /** Your own API's client key (never a provider key). */
  key?: string;
  tenant?: string;
  session?: string;
}

const plainValue = /^[\w.@+-]{1,64}$/;

/**
 * Turns a subject value into a store key part that cannot collide with another subject's keys or grow without
 * bound: short values made of plain characters stay readable; anything else (separators, wildcards, newlines,
 * Unicode, 10 KB strings) becomes `~` + a 128-bit SHA-256 prefix. The raw value itself never reaches a key.
 */
export function encodeSubjectValue(value: string): string {
  if (plainValue.test(value)) return value;
  return `~${createHash("sha256").update(value).digest("base64url").slice(0, 22)}`;
}

/** The key part that identifies one scope of a subject, e.g. `user:alice` or `ip:~Jd93…`. */
export function subjectKeyPart(scope: SubjectScope, value: string): string {
  return `${scope}:${encodeSubjectValue(value)}`;
}

/** Longest subject value the ledger keeps as written. */
const ledgerValueLimit = 256;

/** C0 controls and DEL: a NUL cannot be stored in a Postgres `text` column, and escape codes must not reach a terminal. */
function hasControlCharacter(value: string): boolean {
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/**
 * A subject value as the usage ledger records it: as given, unless it is longer than 256 characters or holds a
 * control character, when it becomes its key encoding (`~` + hash prefix): one hostile value can neither bloat every
 * ledger row and store key it touches, nor make a store refuse the record, nor print escape codes in `tollgate usage`.
 */
export function ledgerValue(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value.length > ledgerValueLimit || hasControlCharacter(value) ? encodeSubjectValue(value) : value;
}
