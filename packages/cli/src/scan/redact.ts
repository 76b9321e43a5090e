import { findKeyMatches, keyDetectors } from "./key-patterns";

/** At most this much of a known prefix is shown; prefixes are public, but a short head keeps lines aligned. */
const maximumHeadLength = 8;
/** The tail people use to tell their keys apart, the way provider dashboards show them. */
const tailLength = 4;
/** Shorter strings show no tail: four characters of a short secret would be too large a share of it. */
const minimumLengthForTail = 24;

/**
 * A key made safe to print: the start of its public prefix, `…`, its last four characters (`sk-proj-…a1B2`).
 * Nothing from the secret body is shown but the tail, and a string with no known prefix shows no head at all.
 */
export function redactKey(key: string): string {
  const head = visibleHead(key);
  const tail = key.length >= minimumLengthForTail ? key.slice(-tailLength) : "";
  return `${head}…${tail}`;
}

function visibleHead(key: string): string {
  let prefix = "";
  for (const detector of keyDetectors) {
    if (key.startsWith(detector.prefix) && detector.prefix.length > prefix.length) prefix = detector.prefix;
  }
  if (prefix.length <= maximumHeadLength) return prefix;
  // Cut at a dash when one falls late enough (`sk-ant-` rather than `sk-ant-a`), else at the maximum.
  const cut = prefix.slice(0, maximumHeadLength);
  const lastDash = cut.lastIndexOf("-");
  return lastDash >= 6 ? cut.slice(0, lastDash + 1) : cut;
}

/**
 * Every key in `text` replaced by its redacted form. The last line of defence: everything `tollgate scan` writes
 * passes through it, so a key in a file name or an error message is not printed either.
 */
export function redactKeysInText(text: string): string {
  const matches = findKeyMatches(text);
  if (matches.length === 0) return text;
  let result = "";
  let position = 0;
  for (const match of matches) {
    result += text.slice(position, match.index) + redactKey(match.key);
    position = match.index + match.key.length;
  }
  return result + text.slice(position);
}
