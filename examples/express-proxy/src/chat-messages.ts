import type { ChatCompletionMessageParam } from "openai/resources/chat/completions";

export const maxMessages = 40;
export const maxMessageCharacters = 4_000;

/**
 * The conversation from a request body: only user and assistant turns with text, bounded in count and length. The
 * system prompt, model and output cap are the server's; anything else in the body is ignored.
 */
export function parseMessages(body: unknown): ChatCompletionMessageParam[] | undefined {
  const messages = typeof body === "object" && body !== null ? (body as { messages?: unknown }).messages : undefined;
  if (!Array.isArray(messages) || messages.length === 0 || messages.length > maxMessages) return undefined;
  const parsed: ChatCompletionMessageParam[] = [];
  for (const message of messages as unknown[]) {
    if (typeof message !== "object" || message === null) return undefined;
    const { role, content } = message as { role?: unknown; content?: unknown };
    if ((role !== "user" && role !== "assistant") || typeof content !== "string") return undefined;
    if (content.length === 0 || content.length > maxMessageCharacters) return undefined;
    parsed.push({ role, content });
  }
  return parsed;
}
