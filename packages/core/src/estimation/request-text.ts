import type { OperationKind } from "../usage/operation";

/** What the provider will count as input: the text, and how many images or files ride along. */
export interface RequestInput {
  text: string;
  /** Pieces the provider counts per message (chat overhead). */
  messages: number;
  images: number;
}

type Json = unknown;

function isRecord(value: Json): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Collects the countable text of a request body. Strings are taken as they are; structured parts that the provider
 * serialises (tool schemas, tool call arguments, JSON schemas) are counted as JSON; images and files count as
 * images (a per-image bound is applied by the estimator) instead of tokenising their base64.
 */
class TextCollector {
  private readonly parts: string[] = [];
  messages = 0;
  images = 0;

  add(text: unknown): void {
    if (typeof text === "string") this.parts.push(text);
  }

  json(value: unknown): void {
    if (value !== undefined && value !== null) this.parts.push(JSON.stringify(value));
  }

  /** Content in any provider's part shapes: string, array of parts, or a single part. */
  content(content: unknown): void {
    if (typeof content === "string") {
      this.add(content);
      return;
    }
    if (Array.isArray(content)) {
      for (const part of content) this.content(part);
      return;
    }
    if (!isRecord(content)) return;
    if (isImageOrFile(content)) {
      this.images++;
      return;
    }
    this.add(content.text);
    this.add(content.thinking);
    this.add(content.refusal);
    if (content.input !== undefined) this.json(content.input); // Anthropic tool_use
    if (content.content !== undefined) this.content(content.content); // Anthropic tool_result
    if (isRecord(content.functionCall)) this.json(content.functionCall); // Gemini
    if (isRecord(content.functionResponse)) this.json(content.functionResponse);
    if (Array.isArray(content.parts)) this.content(content.parts); // Gemini Content
    this.add(content.arguments); // Responses function_call item
    this.add(content.output); // Responses function_call_output item
  }

  result(): RequestInput {
    return { text: this.parts.join("\n"), messages: this.messages, images: this.images };
  }
}

function isImageOrFile(part: Record<string, unknown>): boolean {
  const type = part.type;
  return (
    type === "image_url" ||
    type === "input_image" ||
    type === "image" ||
    type === "document" ||
    type === "file" ||
    type === "input_file" ||
    type === "input_audio" ||
    isRecord(part.inlineData) ||
    isRecord(part.fileData)
  );
}

/** Extracts the input of one request, in the shape of the provider's REST body (both Google SDKs included). */
export function requestInput(operation: OperationKind, params: unknown): RequestInput {
  const collector = new TextCollector();
  if (!isRecord(params)) {
    collector.content(params);
    return collector.result();
  }
  switch (operation) {
    case "openai.chat":
      for (const message of Array.isArray(params.messages) ? params.messages : []) {
        collector.messages++;
        if (!isRecord(message)) continue;
        collector.content(message.content);
        collector.add(message.name);
        if (message.tool_calls !== undefined) collector.json(message.tool_calls);
        if (message.function_call !== undefined) collector.json(message.function_call);
      }
      collector.json(params.tools);
      collector.json(params.functions);
      collector.json(params.response_format);
      break;
    case "openai.responses":
      collector.add(params.instructions);
      if (typeof params.input === "string") collector.add(params.input);
      else
        for (const item of Array.isArray(params.input) ? params.input : []) {
          collector.messages++;
          collector.content(isRecord(item) && item.content !== undefined ? item.content : item);
        }
      collector.json(params.tools);
      collector.json(isRecord(params.text) ? params.text.format : undefined);
      break;
    case "openai.embeddings":
      embeddingInput(collector, params.input);
      break;
    case "anthropic.messages":
      collector.content(params.system);
      for (const message of Array.isArray(params.messages) ? params.messages : []) {
        collector.messages++;
        if (isRecord(message)) collector.content(message.content);
      }
      collector.json(params.tools);
      break;
    case "google.generateContent":
    case "google.embedContent": {
      const config = isRecord(params.config) ? params.config : {};
      collector.content(params.contents);
      collector.content(params.content); // embedContent
      collector.content(params.requests); // batchEmbedContents
      collector.content(params.systemInstruction ?? config.systemInstruction);
      collector.json(params.tools ?? config.tools);
      collector.json(config.responseSchema ?? config.responseJsonSchema);
      break;
    }
  }
  return collector.result();
}

function embeddingInput(collector: TextCollector, input: unknown): void {
  if (typeof input === "string") {
    collector.add(input);
    return;
  }
  if (!Array.isArray(input)) return;
  for (const item of input) {
    if (typeof item === "string") collector.add(item);
    else if (typeof item === "number")
      collector.add("x"); // a token id: one token
    else if (Array.isArray(item)) collector.add("x ".repeat(item.length)); // an array of token ids
  }
}
