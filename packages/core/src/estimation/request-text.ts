import { asArray, asRecord } from "../usage/json-fields";
import type { OperationKind } from "../usage/operation";
import {
  type AudioInput,
  base64ByteLength,
  type DocumentInput,
  decodeBase64Text,
  type ImageInput,
  type MediaInput,
  parseDataUrl,
  pdfPageCount,
  type VideoInput,
  wavSeconds,
} from "./media-tokens";

/**
 * What a provider will count as the input of one request, taken from the request params (the SDK method's first
 * argument, or the REST body, which has the same shape). Params are never trusted: a field of the wrong type is
 * skipped, nothing throws, and the caller's objects are not modified.
 *
 * Structured values the provider serialises into the prompt (tool definitions, tool-call arguments, JSON schemas,
 * function responses) are counted as their JSON text, which is at least as long as the providers' own renderings.
 */
export interface RequestText {
  /** Texts the provider tokenises; each is counted on its own. */
  texts: string[];
  /** Messages or input items, for the chat formats' per-message overhead. */
  messages: number;
  /** OpenAI chat messages with a `name` (one more token each). */
  names: number;
  /** Tool (function) definitions. */
  tools: number;
  /** Tokens sent as token ids (OpenAI embeddings `input` as number arrays), counted by length. */
  tokenIds: number;
  /** Images, audio, video and documents, sized per provider by `mediaTokens`. */
  media: MediaInput[];
  /**
   * Input the provider adds that the request does not show: previous responses, cached contents, files by
   * reference, server-side tools, hidden tool definitions. Non-empty means the estimate may be low for reasons
   * calibration must not learn from.
   */
  unseen: string[];
}

/** Extracts the countable input of `params` for `operation`, in any shape the four SDKs accept. */
export function extractRequestText(operation: OperationKind, params: unknown): RequestText {
  const collector = new Collector();
  switch (operation) {
    case "openai.chat":
      openAIChat(collector, params);
      break;
    case "openai.responses":
      openAIResponses(collector, params);
      break;
    case "openai.embeddings":
      openAIEmbeddings(collector, params);
      break;
    case "anthropic.messages":
      anthropicMessages(collector, params);
      break;
    case "google.generateContent":
      googleGenerateContent(collector, params);
      break;
    case "google.embedContent":
      googleEmbedContent(collector, params);
      break;
  }
  return collector.result();
}

class Collector {
  readonly texts: string[] = [];
  readonly media: MediaInput[] = [];
  readonly unseenReasons = new Set<string>();
  messages = 0;
  names = 0;
  tools = 0;
  tokenIds = 0;

  text(value: unknown): void {
    if (typeof value === "string" && value.length > 0) this.texts.push(value);
  }

  /** A string as it is, anything else as JSON. */
  value(value: unknown): void {
    if (typeof value === "string") this.text(value);
    else if (value !== undefined && value !== null) this.text(toJson(value));
  }

  tool(tool: unknown): void {
    if (tool === undefined || tool === null) return;
    this.tools++;
    this.value(tool);
  }

  /** `undefined` is inline text that `inlineMedia` already counted as text. */
  add(media: MediaInput | undefined): void {
    if (media) this.media.push(media);
  }

  unseen(reason: string): void {
    this.unseenReasons.add(reason);
  }

  /**
   * Fallback for parts and items of types this file does not know: every string value counts, except identifiers
   * and opaque blobs; `data:` URLs count as media.
   */
  generic(value: unknown, seen = new WeakSet<object>()): void {
    if (typeof value === "string") {
      const data = parseDataUrl(value);
      if (!data) this.text(value);
      else this.add(inlineMedia(data.mediaType, data.base64, this));
      return;
    }
    if (typeof value !== "object" || value === null || seen.has(value)) return;
    seen.add(value);
    if (Array.isArray(value)) {
      for (const item of value) this.generic(item, seen);
      return;
    }
    for (const [key, item] of Object.entries(value)) {
      if (skippedKeys.has(key)) continue;
      if (opaqueKeys.has(key)) {
        if (item !== undefined && item !== null) this.unseen(`opaque ${key}`);
        continue;
      }
      this.generic(item, seen);
    }
  }

  result(): RequestText {
    return {
      texts: this.texts,
      messages: this.messages,
      names: this.names,
      tools: this.tools,
      tokenIds: this.tokenIds,
      media: this.media,
      unseen: [...this.unseenReasons],
    };
  }
}

// Identifiers and settings that are not sent to the model as text.
const skippedKeys = new Set(["type", "id", "call_id", "tool_use_id", "status", "cache_control", "thoughtSignature"]);
// Encrypted or signed blobs the provider decodes into tokens Tollgate cannot count.
const opaqueKeys = new Set(["encrypted_content", "encrypted_stdout", "signature", "encrypted_index"]);

/**
 * JSON text of a value; survives cycles and BigInts (functions are dropped, as JSON does). Only after a plain
 * `JSON.stringify` fails does it skip objects already written, which also writes a shared (non-cyclic) object once.
 */
function toJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "";
  } catch {
    const written = new WeakSet<object>();
    try {
      return (
        JSON.stringify(value, (_key, item: unknown) => {
          if (typeof item === "bigint") return item.toString();
          if (typeof item === "object" && item !== null) {
            if (written.has(item)) return undefined;
            written.add(item);
          }
          return item;
        }) ?? ""
      );
    } catch {
      return "";
    }
  }
}

function stringField(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/**
 * A media item from inline base64 data of a given media type. Text files are decoded and counted as text instead
 * (then `undefined`).
 */
function inlineMedia(mediaType: string, base64: string, collector: Collector): MediaInput | undefined {
  const bytes = base64ByteLength(base64);
  if (mediaType.startsWith("image/")) return { kind: "image" };
  if (mediaType.startsWith("audio/")) return audioItem(wavSeconds(base64), bytes);
  if (mediaType.startsWith("video/")) return videoItem(undefined, bytes);
  if (mediaType === "application/pdf") return documentItem(pdfPageCount(base64), bytes);
  if (isTextMediaType(mediaType)) {
    const text = decodeBase64Text(base64);
    if (text !== undefined) {
      collector.text(text);
      return undefined;
    }
  }
  return documentItem(undefined, bytes);
}

function isTextMediaType(mediaType: string): boolean {
  return (
    mediaType.startsWith("text/") ||
    mediaType === "application/json" ||
    mediaType === "application/xml" ||
    mediaType === "application/x-yaml" ||
    mediaType === "application/javascript"
  );
}

function audioItem(seconds: number | undefined, bytes: number | undefined): AudioInput {
  const item: AudioInput = { kind: "audio" };
  if (seconds !== undefined) item.seconds = seconds;
  if (bytes !== undefined) item.bytes = bytes;
  return item;
}

function documentItem(pages: number | undefined, bytes: number | undefined): DocumentInput {
  const item: DocumentInput = { kind: "document" };
  if (pages !== undefined) item.pages = pages;
  if (bytes !== undefined) item.bytes = bytes;
  return item;
}

function imageItem(detail: unknown): ImageInput {
  return typeof detail === "string" ? { kind: "image", detail } : { kind: "image" };
}

// ---- OpenAI ----------------------------------------------------------------------------------------------------

function openAIChat(collector: Collector, params: unknown): void {
  const request = asRecord(params);
  if (!request) return;
  for (const entry of asArray(request.messages)) {
    collector.messages++;
    const message = asRecord(entry);
    if (!message) continue;
    // The cookbook's count: 3 format tokens + the tokens of every value, the role included.
    collector.text(message.role);
    if (typeof message.name === "string") {
      collector.text(message.name);
      collector.names++;
    }
    openAIChatContent(collector, message.content);
    collector.text(message.refusal);
    for (const call of asArray(message.tool_calls)) {
      const fields = asRecord(call);
      const fn = asRecord(fields?.function) ?? asRecord(fields?.custom);
      if (fn) {
        collector.text(fn.name);
        collector.value(fn.arguments ?? fn.input);
      } else collector.generic(call);
    }
    const functionCall = asRecord(message.function_call);
    if (functionCall) {
      collector.text(functionCall.name);
      collector.value(functionCall.arguments);
    }
    // A previous audio answer, referenced by id: its audio tokens are billed again and are not in the request.
    if (asRecord(message.audio)) collector.unseen("assistant audio by id");
  }
  for (const tool of asArray(request.tools)) collector.tool(tool);
  for (const fn of asArray(request.functions)) collector.tool(fn);
  const responseFormat = asRecord(request.response_format);
  if (responseFormat?.type === "json_schema") collector.value(responseFormat.json_schema);
  if (request.web_search_options !== undefined && request.web_search_options !== null) {
    collector.unseen("web search results");
  }
}

function openAIChatContent(collector: Collector, content: unknown): void {
  if (typeof content === "string") {
    collector.text(content);
    return;
  }
  for (const entry of asArray(content)) {
    const part = asRecord(entry);
    if (!part) {
      collector.text(entry);
      continue;
    }
    switch (part.type) {
      case "text":
        collector.text(part.text);
        break;
      case "refusal":
        collector.text(part.refusal);
        break;
      case "image_url":
        collector.add(imageItem(asRecord(part.image_url)?.detail));
        break;
      case "input_audio": {
        const input = asRecord(part.input_audio);
        openAIAudio(collector, stringField(input?.data));
        break;
      }
      case "file": {
        const file = asRecord(part.file);
        openAIFile(collector, stringField(file?.file_data), stringField(file?.filename));
        break;
      }
      default:
        collector.generic(part);
    }
  }
}

function openAIAudio(collector: Collector, data: string | undefined): void {
  if (data === undefined) {
    collector.add({ kind: "audio" });
    return;
  }
  collector.add(audioItem(wavSeconds(data), base64ByteLength(data)));
}

/** `file_data` is a `data:` URL (or bare base64 with a file name); without it the file is a reference by id/URL. */
function openAIFile(collector: Collector, fileData: string | undefined, filename: string | undefined): void {
  if (fileData === undefined) {
    collector.unseen("file by reference");
    collector.add({ kind: "document" });
    return;
  }
  const data = parseDataUrl(fileData);
  if (data) {
    collector.add(inlineMedia(data.mediaType, data.base64, collector));
    return;
  }
  const extension = filename?.toLowerCase().split(".").pop();
  const mediaType = extension === "pdf" ? "application/pdf" : extension === "txt" ? "text/plain" : "";
  collector.add(inlineMedia(mediaType, fileData, collector));
}

// Responses tools the client runs itself; all others run on OpenAI's side and feed it input the request lacks.
const clientSideResponsesTools = new Set([
  "function",
  "custom",
  "local_shell",
  "shell",
  "apply_patch",
  "computer",
  "computer_use_preview",
  "namespace",
]);

function openAIResponses(collector: Collector, params: unknown): void {
  const request = asRecord(params);
  if (!request) return;
  if (typeof request.instructions === "string") {
    collector.messages++;
    collector.text(request.instructions);
  }
  if (typeof request.input === "string") {
    collector.messages++;
    collector.text(request.input);
  } else {
    for (const item of asArray(request.input)) responsesItem(collector, item);
  }
  for (const entry of asArray(request.tools)) {
    collector.tool(entry);
    const type = asRecord(entry)?.type;
    if (typeof type === "string" && !clientSideResponsesTools.has(type)) collector.unseen(`server tool ${type}`);
  }
  const format = asRecord(asRecord(request.text)?.format);
  if (format?.type === "json_schema") collector.value(format);
  if (typeof request.previous_response_id === "string") collector.unseen("previous_response_id");
  if (request.conversation !== undefined && request.conversation !== null) collector.unseen("conversation");
  const prompt = asRecord(request.prompt);
  if (prompt) {
    collector.unseen("prompt template");
    collector.generic(prompt.variables);
  }
}

function responsesItem(collector: Collector, entry: unknown): void {
  collector.messages++;
  const item = asRecord(entry);
  if (!item) {
    collector.text(entry);
    return;
  }
  switch (item.type) {
    case undefined:
    case "message":
      collector.text(item.role);
      if (typeof item.content === "string") collector.text(item.content);
      else for (const part of asArray(item.content)) responsesContent(collector, part);
      return;
    case "function_call":
    case "custom_tool_call":
      collector.text(item.name);
      collector.value(item.arguments ?? item.input);
      return;
    case "function_call_output":
    case "custom_tool_call_output":
      if (typeof item.output === "string") collector.text(item.output);
      else for (const part of asArray(item.output)) responsesContent(collector, part);
      return;
    case "reasoning":
      for (const part of [...asArray(item.summary), ...asArray(item.content)]) collector.text(asRecord(part)?.text);
      if (typeof item.encrypted_content === "string") collector.unseen("encrypted reasoning");
      return;
    case "item_reference":
      collector.unseen("item_reference");
      return;
    case "image_generation_call":
      if (typeof item.result === "string") collector.add({ kind: "image" });
      return;
    case "computer_call_output": {
      const output = asRecord(item.output);
      if (output?.type === "computer_screenshot") collector.add(imageItem(output.detail));
      else collector.generic(item.output);
      return;
    }
    default:
      collector.generic(item);
  }
}

function responsesContent(collector: Collector, entry: unknown): void {
  const part = asRecord(entry);
  if (!part) {
    collector.text(entry);
    return;
  }
  switch (part.type) {
    case "input_text":
    case "output_text":
    case "text":
    case "summary_text":
    case "reasoning_text":
      collector.text(part.text);
      return;
    case "refusal":
      collector.text(part.refusal);
      return;
    case "input_image":
      collector.add(imageItem(part.detail));
      return;
    case "input_file":
      openAIFile(collector, stringField(part.file_data), stringField(part.filename));
      return;
    case "input_audio":
      openAIAudio(collector, stringField(asRecord(part.input_audio)?.data));
      return;
    default:
      collector.generic(part);
  }
}

function openAIEmbeddings(collector: Collector, params: unknown): void {
  const input = asRecord(params)?.input;
  if (typeof input === "string") {
    collector.text(input);
    return;
  }
  if (!Array.isArray(input)) return;
  if (input.every((item) => typeof item === "number")) {
    collector.tokenIds += input.length;
    return;
  }
  for (const item of input) {
    if (typeof item === "string") collector.text(item);
    else if (Array.isArray(item)) collector.tokenIds += item.length;
  }
}

// ---- Anthropic -------------------------------------------------------------------------------------------------

// Anthropic tool types whose definitions Claude sees but the request does not show in full (server tools, and the
// Anthropic-defined client tools such as bash or computer use with their own system prompts).
function isAnthropicCustomTool(tool: Record<string, unknown>): boolean {
  return tool.type === undefined || tool.type === null || tool.type === "custom";
}

function anthropicMessages(collector: Collector, params: unknown): void {
  const request = asRecord(params);
  if (!request) return;
  if (typeof request.system === "string") {
    collector.messages++;
    collector.text(request.system);
  } else if (Array.isArray(request.system)) {
    collector.messages++;
    for (const block of request.system) anthropicBlock(collector, block);
  }
  for (const entry of asArray(request.messages)) {
    collector.messages++;
    const message = asRecord(entry);
    if (!message) continue;
    anthropicContent(collector, message.content);
  }
  for (const entry of asArray(request.tools)) {
    collector.tool(entry);
    const tool = asRecord(entry);
    if (tool && !isAnthropicCustomTool(tool)) collector.unseen(`tool ${String(tool.type)}`);
  }
  if (asArray(request.mcp_servers).length > 0) collector.unseen("mcp_servers");
  if (request.container !== undefined && request.container !== null) collector.unseen("container");
  const format = asRecord(request.output_config)?.format ?? request.output_format;
  if (format !== undefined && format !== null) collector.value(format);
}

function anthropicContent(collector: Collector, content: unknown): void {
  if (typeof content === "string") collector.text(content);
  else for (const block of asArray(content)) anthropicBlock(collector, block);
}

function anthropicBlock(collector: Collector, entry: unknown): void {
  const block = asRecord(entry);
  if (!block) {
    collector.text(entry);
    return;
  }
  switch (block.type) {
    case "text":
      collector.text(block.text);
      return;
    case "image":
      collector.add({ kind: "image" });
      return;
    case "document":
      collector.text(block.title);
      collector.text(block.context);
      anthropicDocumentSource(collector, asRecord(block.source));
      return;
    case "search_result":
      collector.text(block.title);
      collector.text(block.source);
      anthropicContent(collector, block.content);
      return;
    case "tool_use":
    case "server_tool_use":
    case "mcp_tool_use":
      collector.text(block.name);
      collector.value(block.input);
      return;
    case "tool_result":
    case "mcp_tool_result":
      anthropicContent(collector, block.content);
      return;
    case "thinking":
      collector.text(block.thinking);
      return;
    case "redacted_thinking":
      collector.unseen("redacted thinking");
      return;
    case "container_upload":
      collector.unseen("container upload");
      return;
    default:
      collector.generic(block);
  }
}

function anthropicDocumentSource(collector: Collector, source: Record<string, unknown> | undefined): void {
  switch (source?.type) {
    case "base64": {
      const data = stringField(source.data) ?? "";
      collector.add(inlineMedia(stringField(source.media_type) ?? "application/pdf", data, collector));
      return;
    }
    case "text":
      collector.text(source.data);
      return;
    case "content":
      anthropicContent(collector, source.content);
      return;
    default:
      // url or file: the document is fetched by Anthropic.
      collector.unseen("document by reference");
      collector.add({ kind: "document" });
  }
}

// ---- Google ----------------------------------------------------------------------------------------------------

// Gemini tools that are not function declarations run on Google's side (search, URL context, code execution …).
const googleFunctionToolKeys = new Set(["functionDeclarations"]);

/**
 * `@google/genai`: `{ model, contents, config: { systemInstruction, tools, … } }`. `@google/generative-ai` and REST:
 * `{ contents, systemInstruction, tools, generationConfig }`, or (old SDK) a bare string or `(string | Part)[]`.
 * `contents` may be a string, a Part, a Content, or an array of those.
 */
function googleGenerateContent(collector: Collector, params: unknown): void {
  const request = asRecord(params);
  if (!request) {
    googleContents(collector, params, undefined);
    return;
  }
  const config = asRecord(request.config) ?? {};
  const generationConfig = asRecord(request.generationConfig) ?? {};
  const resolution = stringField(config.mediaResolution) ?? stringField(generationConfig.mediaResolution);
  googleContents(collector, request.contents, resolution);
  googleContents(collector, request.systemInstruction ?? config.systemInstruction, resolution);
  for (const entry of asArray(request.tools ?? config.tools)) {
    const tool = asRecord(entry);
    if (tool && typeof tool.tool === "function") {
      // A CallableTool (e.g. an MCP client): the SDK fetches its declarations asynchronously at call time.
      collector.unseen("callable tool");
      continue;
    }
    collector.tool(entry);
    if (tool && Object.keys(tool).some((key) => !googleFunctionToolKeys.has(key))) collector.unseen("server tool");
  }
  for (const source of [config, generationConfig]) {
    collector.value(source.responseSchema);
    collector.value(source.responseJsonSchema);
  }
  if (typeof (request.cachedContent ?? config.cachedContent) === "string") collector.unseen("cachedContent");
}

/**
 * genai `embedContent`: `{ model, contents, config: { title } }`. Old SDK: a string, `(string | Part)[]`,
 * `{ content, title }`, or `batchEmbedContents`' `{ requests: [{ content, title }] }`.
 */
function googleEmbedContent(collector: Collector, params: unknown): void {
  const request = asRecord(params);
  if (!request) {
    googleContents(collector, params, undefined);
    return;
  }
  googleContents(collector, request.contents, undefined);
  googleContents(collector, request.content, undefined);
  collector.text(request.title);
  collector.text(asRecord(request.config)?.title);
  for (const entry of asArray(request.requests)) {
    const item = asRecord(entry);
    googleContents(collector, item?.content, undefined);
    collector.text(item?.title);
  }
}

function googleContents(collector: Collector, value: unknown, resolution: string | undefined): void {
  if (value === undefined || value === null) return;
  if (typeof value === "string") {
    collector.messages++;
    collector.text(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) googleContents(collector, item, resolution);
    return;
  }
  const record = asRecord(value);
  if (!record) return;
  if (Array.isArray(record.parts)) {
    collector.messages++;
    for (const part of record.parts) googlePart(collector, part, resolution);
    return;
  }
  googlePart(collector, record, resolution);
}

function googlePart(collector: Collector, entry: unknown, resolution: string | undefined): void {
  if (typeof entry === "string") {
    collector.text(entry);
    return;
  }
  const part = asRecord(entry);
  if (!part) return;
  collector.text(part.text);
  const partResolution = asRecord(part.mediaResolution);
  const level = stringField(partResolution?.level) ?? resolution;
  const stated = typeof partResolution?.numTokens === "number" ? partResolution.numTokens : undefined;
  const seconds = videoSeconds(asRecord(part.videoMetadata));
  const inline = asRecord(part.inlineData);
  if (inline) {
    const mediaType = (stringField(inline.mimeType) ?? "").toLowerCase();
    const data = stringField(inline.data) ?? "";
    const media = inlineMedia(mediaType, data, collector);
    if (media?.kind === "image") collector.add(imageAt(level, stated));
    else if (media?.kind === "video") collector.add(videoItem(seconds, media.bytes));
    else if (media?.kind === "audio" && seconds !== undefined) collector.add(audioItem(seconds, media.bytes));
    else collector.add(media);
  }
  const file = asRecord(part.fileData);
  if (file) {
    // By reference (Files API, Cloud Storage, YouTube): images are bounded anyway; audio and video only when
    // `videoMetadata` gives the clip's length; documents never.
    const mediaType = (stringField(file.mimeType) ?? "").toLowerCase();
    if (mediaType.startsWith("image/")) collector.add(imageAt(level, stated));
    else if (mediaType.startsWith("audio/") || mediaType.startsWith("video/") || mediaType === "") {
      // No media type: a YouTube URL, which Gemini treats as video.
      collector.add(mediaType.startsWith("audio/") ? audioItem(seconds, undefined) : videoItem(seconds, undefined));
      if (seconds === undefined) collector.unseen("media by reference");
    } else {
      collector.add({ kind: "document" });
      collector.unseen("file by reference");
    }
  }
  const functionCall = asRecord(part.functionCall);
  if (functionCall) {
    collector.text(functionCall.name);
    collector.value(functionCall.args);
  }
  const functionResponse = asRecord(part.functionResponse);
  if (functionResponse) {
    collector.text(functionResponse.name);
    collector.value(functionResponse.response);
    for (const nested of asArray(functionResponse.parts)) googlePart(collector, nested, resolution);
  }
  collector.text(asRecord(part.executableCode)?.code);
  collector.text(asRecord(part.codeExecutionResult)?.output);
  if (part.toolCall !== undefined) collector.generic(part.toolCall);
  if (part.toolResponse !== undefined) collector.generic(part.toolResponse);
}

function imageAt(level: string | undefined, tokens: number | undefined): ImageInput {
  const item: ImageInput = { kind: "image" };
  if (level !== undefined) item.resolution = level;
  if (tokens !== undefined) item.tokens = tokens;
  return item;
}

function videoItem(seconds: number | undefined, bytes: number | undefined): VideoInput {
  const item: VideoInput = { kind: "video" };
  if (seconds !== undefined) item.seconds = seconds;
  if (bytes !== undefined) item.bytes = bytes;
  return item;
}

/** Clip length from `videoMetadata` offsets (`"12.5s"` strings or `{ seconds, nanos }`), scaled by `fps` above 1. */
function videoSeconds(metadata: Record<string, unknown> | undefined): number | undefined {
  if (!metadata) return undefined;
  const start = durationSeconds(metadata.startOffset) ?? 0;
  const end = durationSeconds(metadata.endOffset);
  if (end === undefined || end <= start) return undefined;
  const fps = typeof metadata.fps === "number" && metadata.fps > 1 ? metadata.fps : 1;
  return (end - start) * fps;
}

function durationSeconds(value: unknown): number | undefined {
  if (typeof value === "string") {
    const match = /^(-?\d+(?:\.\d+)?)s$/.exec(value.trim());
    return match ? Number(match[1]) : undefined;
  }
  const record = asRecord(value);
  if (!record) return undefined;
  const seconds = Number(record.seconds ?? 0);
  const nanos = Number(record.nanos ?? 0);
  return Number.isFinite(seconds) && Number.isFinite(nanos) ? seconds + nanos / 1e9 : undefined;
}
