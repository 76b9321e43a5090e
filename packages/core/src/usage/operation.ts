/**
 * The metered provider operations, one per HTTP endpoint family. Streaming is a property of the call, not of the
 * operation: `google.generateContent` covers both `:generateContent` and `:streamGenerateContent?alt=sse`.
 */
export type OperationKind =
  | "openai.chat"
  | "openai.responses"
  | "openai.embeddings"
  | "anthropic.messages"
  | "google.generateContent"
  | "google.embedContent";
