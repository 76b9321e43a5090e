import type { ProviderName } from "../usage/token-usage";

/**
 * Images, audio, video and documents in a request. Their base64 is never tokenised (a 200 kB JPEG is ~270 k
 * characters, ~185 k o200k tokens; the provider bills it as ~1–5 k): each item is sized by the per-provider bounds
 * below. Sizes that the request does not tell (pixel size, duration, page count) are assumed at the large end.
 */
export type MediaInput = ImageInput | AudioInput | VideoInput | DocumentInput;

export interface ImageInput {
  kind: "image";
  /** OpenAI `detail`. */
  detail?: string;
  /** Gemini media resolution level (`MEDIA_RESOLUTION_LOW` …), from the part or the request config. */
  resolution?: string;
  /** An exact count the request states (Gemini `Part.mediaResolution.numTokens`). */
  tokens?: number;
}

export interface AudioInput {
  kind: "audio";
  /** Duration when known (WAV header, Gemini `videoMetadata` offsets). */
  seconds?: number;
  /** Decoded size of inline data, used when the duration is unknown. */
  bytes?: number;
}

export interface VideoInput {
  kind: "video";
  seconds?: number;
  bytes?: number;
}

export interface DocumentInput {
  kind: "document";
  /** Page count read from an inline PDF. */
  pages?: number;
  /** Decoded size of inline data, used when no page count could be read. */
  bytes?: number;
}

// ---- Images ----------------------------------------------------------------------------------------------------

/**
 * OpenAI, per image of unknown size with `detail` high/auto/unset. The largest bill among current model families:
 * - tile models (gpt-4o, gpt-4.5, o1, o3, gpt-5): 85 + 170 × tiles; an image is fitted into 2048² and its short
 *   side scaled to 768, so at most 2 × 4 = 8 tiles: 1,445 (the brief's 1,105 is a 768×1536 image; 2048×768 is 8
 *   tiles, not 6);
 * - patch models (gpt-4.1*, o4-mini, gpt-5-mini/nano, gpt-5.2+): 32-px patches capped at 1,536 (2,500 on gpt-5.4 and
 *   later at high detail), times a per-model multiplier of 1–1.72: 1,536 × 1.72 = 2,642 (o4-mini), 2,500 × 1.2 =
 *   3,000 (gpt-5.4).
 * 3,000 covers all of them except the two families below.
 */
export const OPENAI_IMAGE_TOKENS = 3_000;
/** gpt-4.1-nano: 1,536 patches × 2.46. */
export const OPENAI_NANO_41_IMAGE_TOKENS = 3_779;
/** gpt-4o-mini bills images at 33⅓× the gpt-4o count (so its price per image equals gpt-4o's): 2,833 + 5,667 × 8. */
export const OPENAI_4O_MINI_IMAGE_TOKENS = 48_169;
/** gpt-4o-mini with `detail: "low"`. */
export const OPENAI_4O_MINI_LOW_IMAGE_TOKENS = 2_833;
/** `detail: "low"` on tile models: a fixed 85. Patch models ignore `low`; they keep the high-detail bound. */
export const OPENAI_LOW_IMAGE_TOKENS = 85;
/** `detail: "original"` (gpt-5.4 and later): up to 10,000 patches × 1.2. An assumption; OpenAI publishes no cap. */
export const OPENAI_ORIGINAL_IMAGE_TOKENS = 12_000;

/**
 * Claude, per image: about width × height / 750, images scaled to at most 1,568 px on the long edge and ~1.15 MP,
 * so ~1,600 tokens, for Claude 3 and Claude 4 up to 4.6. Claude Opus 4.7 and later read up to 2,576 px on the long
 * edge: up to 4,784 tokens. Unknown Claude models get the larger figure.
 */
export const ANTHROPIC_IMAGE_TOKENS = 4_784;
/** Claude 3.x and Claude 4.0–4.6 (Haiku 4.5 included). */
export const ANTHROPIC_LEGACY_IMAGE_TOKENS = 1_600;

/**
 * Gemini, per image without a resolution setting: 258 tokens per 768×768 tile on Gemini 2.x (258 in all up to
 * 384 px), 1,120 at the default (high) resolution on Gemini 3. Five tiles (1,290) covers both.
 */
export const GOOGLE_IMAGE_TOKENS = 1_290;
/** Gemini 3 per-image tokens by media resolution; ultra-high is an assumption (twice high). */
export const GOOGLE_IMAGE_TOKENS_BY_RESOLUTION: Readonly<Record<string, number>> = {
  MEDIA_RESOLUTION_LOW: 280,
  MEDIA_RESOLUTION_MEDIUM: 560,
  MEDIA_RESOLUTION_HIGH: 1_120,
  MEDIA_RESOLUTION_ULTRA_HIGH: 2_240,
};

// ---- Audio and video -------------------------------------------------------------------------------------------

/** OpenAI audio input: 1 token per 100 ms (gpt-4o audio and realtime models). */
export const OPENAI_AUDIO_TOKENS_PER_SECOND = 10;
/** Gemini: 32 tokens per second of audio. */
export const GOOGLE_AUDIO_TOKENS_PER_SECOND = 32;
/** Gemini video: 258 per frame at 1 frame/s plus 32 for the audio track (263 documented, 290 with headroom). */
export const GOOGLE_VIDEO_TOKENS_PER_SECOND = 300;
/**
 * Duration of compressed audio from its size when no header says otherwise: 16 kbit/s, at the low end of speech
 * bitrates, so the duration (and the bill) is over- rather than under-estimated. WAV durations come from the header.
 */
export const AUDIO_BYTES_PER_SECOND = 2_000;
/** Duration of inline video from its size: 250 kbit/s, low for video, for the same reason. */
export const VIDEO_BYTES_PER_SECOND = 31_250;
/** Audio or video by reference (a file id or URI) without offsets: assumed 10 minutes. A guess, not a bound. */
export const UNKNOWN_MEDIA_SECONDS = 600;

// ---- Documents -------------------------------------------------------------------------------------------------

/**
 * Text tokens per PDF page, at the top of Anthropic's published 1,500–3,000 per page. OpenAI and Claude also send
 * an image of every page, which is added (the provider's image figure above); Gemini bills a page as one image
 * (258 on 2.x, 560 at medium resolution on Gemini 3) and extracts no separate text, so it gets only the high
 * resolution image figure.
 */
export const DOCUMENT_TEXT_TOKENS_PER_PAGE = 3_000;
/** Gemini, per PDF page: the Gemini 3 high-resolution image figure. */
export const GOOGLE_DOCUMENT_TOKENS_PER_PAGE = 1_120;
/** Page count of an inline PDF whose page objects are compressed (object streams): one page per 50 kB. */
export const DOCUMENT_BYTES_PER_PAGE = 50_000;
/** A document by reference (file id or URL), whose size Tollgate cannot see: assumed 10 pages. A guess. */
export const UNKNOWN_DOCUMENT_PAGES = 10;

/** The tokens one media item is assumed to cost with this provider and model. */
export function mediaTokens(provider: ProviderName, model: string, media: MediaInput): number {
  switch (media.kind) {
    case "image":
      return imageTokens(provider, model, media);
    case "audio": {
      const seconds = media.seconds ?? secondsFromBytes(media.bytes, AUDIO_BYTES_PER_SECOND);
      const perSecond = provider === "google" ? GOOGLE_AUDIO_TOKENS_PER_SECOND : OPENAI_AUDIO_TOKENS_PER_SECOND;
      return Math.ceil(seconds * perSecond);
    }
    case "video": {
      const seconds = media.seconds ?? secondsFromBytes(media.bytes, VIDEO_BYTES_PER_SECOND);
      return Math.ceil(seconds * GOOGLE_VIDEO_TOKENS_PER_SECOND);
    }
    case "document": {
      const pages =
        media.pages ??
        (media.bytes === undefined
          ? UNKNOWN_DOCUMENT_PAGES
          : Math.max(1, Math.ceil(media.bytes / DOCUMENT_BYTES_PER_PAGE)));
      const perPage =
        provider === "google"
          ? GOOGLE_DOCUMENT_TOKENS_PER_PAGE
          : DOCUMENT_TEXT_TOKENS_PER_PAGE + imageTokens(provider, model, { kind: "image" });
      return pages * perPage;
    }
  }
}

function secondsFromBytes(bytes: number | undefined, bytesPerSecond: number): number {
  return bytes === undefined ? UNKNOWN_MEDIA_SECONDS : Math.max(1, bytes / bytesPerSecond);
}

function imageTokens(provider: ProviderName, model: string, image: ImageInput): number {
  if (image.tokens !== undefined) return image.tokens;
  switch (provider) {
    case "openai":
      return openAIImageTokens(model, image.detail);
    case "anthropic":
      return isLegacyClaudeVision(model) ? ANTHROPIC_LEGACY_IMAGE_TOKENS : ANTHROPIC_IMAGE_TOKENS;
    case "google":
      return (image.resolution && GOOGLE_IMAGE_TOKENS_BY_RESOLUTION[image.resolution]) || GOOGLE_IMAGE_TOKENS;
  }
}

function openAIImageTokens(model: string, detail: string | undefined): number {
  const id = baseModelId(model);
  if (id.startsWith("gpt-4o-mini")) {
    return detail === "low" ? OPENAI_4O_MINI_LOW_IMAGE_TOKENS : OPENAI_4O_MINI_IMAGE_TOKENS;
  }
  if (detail === "original") return OPENAI_ORIGINAL_IMAGE_TOKENS;
  if (id.startsWith("gpt-4.1-nano")) return OPENAI_NANO_41_IMAGE_TOKENS;
  if (detail === "low" && !isPatchModel(id)) return OPENAI_LOW_IMAGE_TOKENS;
  return OPENAI_IMAGE_TOKENS;
}

/** Patch-billed OpenAI models, on which `detail: "low"` saves nothing. */
function isPatchModel(id: string): boolean {
  return /^gpt-4\.1|^o4-mini|^codex-mini|mini|nano/.test(id);
}

/** Fine-tuned ids (`ft:gpt-4o-mini:org::id`) bill as their base model. */
export function baseModelId(model: string): string {
  return model.startsWith("ft:") ? model.slice(3) : model;
}

/** Claude models that cap images at ~1,600 tokens: Claude 3.x and Claude 4 up to 4.6 (ids with or without a date). */
function isLegacyClaudeVision(model: string): boolean {
  return /claude-3|claude-(?:opus|sonnet|haiku)-4(?:-[0-6])?(?:-\d{8})?(?![-.]?\d)/.test(model);
}

// ---- Reading inline data ---------------------------------------------------------------------------------------

/** A `data:` URL split into its media type and base64 payload; `undefined` for anything else. */
export function parseDataUrl(url: string): { mediaType: string; base64: string } | undefined {
  if (!url.startsWith("data:")) return undefined;
  const comma = url.indexOf(",");
  if (comma < 0) return undefined;
  const header = url.slice(5, comma);
  if (!header.endsWith(";base64")) return undefined;
  return { mediaType: header.slice(0, header.indexOf(";")).toLowerCase(), base64: url.slice(comma + 1) };
}

/** Decoded size of a base64 string, without decoding it. */
export function base64ByteLength(base64: string): number {
  let length = base64.length;
  while (length > 0 && (base64.charCodeAt(length - 1) === 0x3d || base64.charCodeAt(length - 1) <= 0x20)) length--;
  return Math.floor((length * 3) / 4);
}

function decodeBase64(base64: string): Uint8Array | undefined {
  if (typeof Buffer !== "function") return undefined;
  return Buffer.from(base64, "base64");
}

/** The text of base64-encoded UTF-8 (text files sent inline). */
export function decodeBase64Text(base64: string): string | undefined {
  const bytes = decodeBase64(base64);
  return bytes === undefined ? undefined : new TextDecoder().decode(bytes);
}

/**
 * Page count of a base64 PDF: the number of `/Type /Page` objects. PDFs that keep their objects in compressed
 * object streams show none; then `undefined`, and the size decides (`DOCUMENT_BYTES_PER_PAGE`).
 */
export function pdfPageCount(base64: string): number | undefined {
  const bytes = decodeBase64(base64);
  if (!bytes || typeof Buffer !== "function") return undefined;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pages = 0;
  let index = buffer.indexOf("/Type");
  while (index >= 0) {
    let cursor = index + 5;
    while (cursor < buffer.length && isPdfWhitespace(buffer[cursor] ?? 0)) cursor++;
    if (buffer.toString("latin1", cursor, cursor + 5) === "/Page" && !isAsciiLetter(buffer[cursor + 5] ?? 0)) pages++;
    index = buffer.indexOf("/Type", cursor);
  }
  return pages > 0 ? pages : undefined;
}

/** Duration of a base64 WAV file from its header (data size / byte rate); `undefined` if it is not WAV. */
export function wavSeconds(base64: string): number | undefined {
  const header = decodeBase64(base64.slice(0, 64));
  if (!header || header.length < 44 || typeof Buffer !== "function") return undefined;
  const view = Buffer.from(header.buffer, header.byteOffset, header.byteLength);
  if (view.toString("latin1", 0, 4) !== "RIFF" || view.toString("latin1", 8, 12) !== "WAVE") return undefined;
  const byteRate = view.readUInt32LE(28);
  if (byteRate <= 0) return undefined;
  // The data chunk's own size field is often wrong in streamed WAVs; the payload size is reliable.
  return Math.max(0, base64ByteLength(base64) - 44) / byteRate;
}

function isPdfWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09 || byte === 0x0c || byte === 0x00;
}

function isAsciiLetter(byte: number): boolean {
  return (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a);
}
