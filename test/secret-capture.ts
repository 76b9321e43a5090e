import { randomBytes } from "node:crypto";
import { format, inspect } from "node:util";

/** A provider key planted in a test: the whole key, and the part after its public prefix that must never leak. */
export interface PlantedSecret {
  name: string;
  value: string;
  secretPart: string;
}

const keyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function randomKeyCharacters(length: number): string {
  return [...randomBytes(length)].map((byte) => keyAlphabet[byte % keyAlphabet.length]).join("");
}

/** A key of a provider's real shape and length, recognisable by its marker (`PLANTED`), random per run. */
export function plantKey(name: string, prefix: string, length: number, marker = "PLANTED"): PlantedSecret {
  const secretPart = `${marker}${randomKeyCharacters(length - prefix.length - marker.length)}`;
  return { name, value: `${prefix}${secretPart}`, secretPart };
}

/** Everything that can be said about an error: message, stack, JSON, and the same for each `cause` down the chain. */
function describeError(error: Error): string {
  const parts = [String(error), error.stack ?? "", safeJson(error), inspect(error, { depth: 8 })];
  const seen = new Set<unknown>([error]);
  let cause: unknown = error.cause;
  while (cause !== undefined && !seen.has(cause)) {
    seen.add(cause);
    parts.push(cause instanceof Error ? `${String(cause)}\n${cause.stack ?? ""}\n${safeJson(cause)}` : String(cause));
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return parts.join("\n");
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, inner: unknown) =>
      inner instanceof Error ? { ...inner, name: inner.name, message: inner.message, stack: inner.stack } : inner,
    );
  } catch {
    return "";
  }
}

/** Text of anything captured: strings as they are, errors in full, objects as JSON and as `util.inspect` sees them. */
export function captureText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Error) return describeError(value);
  return `${safeJson(value)}\n${inspect(value, { depth: 10 })}`;
}

/**
 * Everything a guarded app put out, by channel (errors, events, alerts, log lines, console, usage, store, CLI…), and
 * a search over it for planted secrets: the whole value or any 12 characters of its secret part.
 */
export class LeakCapture {
  private readonly texts = new Map<string, string[]>();

  add(channel: string, value: unknown): void {
    const list = this.texts.get(channel) ?? [];
    list.push(captureText(value));
    this.texts.set(channel, list);
  }

  /** Replaces `console.*` with capturing functions until the returned function is called. */
  captureConsole(): () => void {
    const methods = ["log", "info", "warn", "error", "debug", "trace"] as const;
    const originals = methods.map((method) => [method, console[method]] as const);
    for (const method of methods) {
      console[method] = (...args: unknown[]) => {
        this.add("console", format(...args));
      };
    }
    return () => {
      for (const [method, original] of originals) console[method] = original;
    };
  }

  channels(): string[] {
    return [...this.texts.keys()];
  }

  characters(channel: string): number {
    return (this.texts.get(channel) ?? []).reduce((sum, text) => sum + text.length, 0);
  }

  /** The channels where `secret` shows, whole or as any 12-character window of its secret part. */
  channelsContaining(secret: PlantedSecret, windowLength = 12): string[] {
    const windows = new Set<string>();
    for (let start = 0; start + windowLength <= secret.secretPart.length; start++) {
      windows.add(secret.secretPart.slice(start, start + windowLength));
    }
    const found: string[] = [];
    for (const [channel, texts] of this.texts) {
      const hit = texts.some((text) => {
        if (text.includes(secret.value)) return true;
        for (let start = 0; start + windowLength <= text.length; start++) {
          if (windows.has(text.slice(start, start + windowLength))) return true;
        }
        return false;
      });
      if (hit) found.push(channel);
    }
    return found;
  }
}
