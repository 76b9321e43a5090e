import { Stream } from "@anthropic-ai/sdk/streaming";
import { describe, expect, it } from "vitest";
import { createSseDecoder, type SseEvent, SseStreamParser } from "./sse-decoder";

const encoder = new TextEncoder();

function decodeAll(pieces: readonly Uint8Array[]): SseEvent[] {
  const decoder = createSseDecoder();
  const events: SseEvent[] = [];
  for (const piece of pieces) events.push(...decoder.push(piece));
  events.push(...decoder.end());
  return events;
}

function decodeText(text: string): SseEvent[] {
  return decodeAll([encoder.encode(text)]);
}

/** Splits `bytes` into pieces at the given offsets. */
function splitAt(bytes: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let start = 0;
  for (const offset of [...offsets, bytes.length]) {
    pieces.push(bytes.slice(start, offset));
    start = offset;
  }
  return pieces;
}

/** A small deterministic PRNG (mulberry32), so failures reproduce. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

function randomSplits(bytes: Uint8Array, next: () => number, maxPiece: number): Uint8Array[] {
  const offsets: number[] = [];
  let offset = 0;
  while (true) {
    offset += 1 + Math.floor(next() * maxPiece);
    if (offset >= bytes.length) break;
    offsets.push(offset);
  }
  return splitAt(bytes, offsets);
}

const MIXED = [
  ": keep-alive comment\n",
  "event: message_start\n",
  'data: {"text":"héllo wörld 👋 日本語"}\n',
  "\n",
  "data:no-space\n",
  "\n",
  "data:  two spaces keep one\n",
  "\n",
  "event: multi\n",
  "data: line one\n",
  "data\n",
  "data: line three ✓\n",
  "id: 7\n",
  "retry: 1000\n",
  "unknown: field\n",
  "\n",
  "event: only-an-event\n",
  "\n",
  "\n",
  "\n",
  "data: last €\n",
  "\n",
].join("");

const MIXED_EVENTS: SseEvent[] = [
  { event: "message_start", data: '{"text":"héllo wörld 👋 日本語"}' },
  { event: undefined, data: "no-space" },
  { event: undefined, data: " two spaces keep one" },
  { event: "multi", data: "line one\n\nline three ✓" },
  { event: undefined, data: "last €" },
];

describe("createSseDecoder", () => {
  it("parses fields, comments, multi-line data and the optional space", () => {
    expect(decodeText(MIXED)).toEqual(MIXED_EVENTS);
  });

  it.each([
    ["LF", "\n"],
    ["CRLF", "\r\n"],
    ["CR", "\r"],
  ])("gives the same events with %s line endings", (_name, newline) => {
    expect(decodeText(MIXED.replaceAll("\n", newline))).toEqual(MIXED_EVENTS);
  });

  it("accepts mixed line endings in one stream", () => {
    expect(decodeText("data: a\r\ndata: b\rdata: c\n\r\ndata: d\r\r")).toEqual([
      { event: undefined, data: "a\nb\nc" },
      { event: undefined, data: "d" },
    ]);
  });

  it.each([
    ["LF", "\n"],
    ["CRLF", "\r\n"],
    ["CR", "\r"],
  ])("is independent of chunk boundaries (%s, every two-way split)", (_name, newline) => {
    const bytes = encoder.encode(MIXED.replaceAll("\n", newline));
    for (let offset = 0; offset <= bytes.length; offset++) {
      expect(decodeAll(splitAt(bytes, [offset]))).toEqual(MIXED_EVENTS);
    }
  });

  it("is independent of chunk boundaries (one byte at a time, and random pieces)", () => {
    for (const newline of ["\n", "\r\n", "\r"]) {
      const bytes = encoder.encode(MIXED.replaceAll("\n", newline));
      expect(
        decodeAll(
          splitAt(
            bytes,
            Array.from({ length: bytes.length - 1 }, (_, index) => index + 1),
          ),
        ),
      ).toEqual(MIXED_EVENTS);
      const next = random(42);
      for (let round = 0; round < 200; round++) {
        expect(decodeAll(randomSplits(bytes, next, 12))).toEqual(MIXED_EVENTS);
      }
    }
  });

  it("decodes a multi-byte character split between chunks", () => {
    const bytes = encoder.encode("data: 👋\n\n"); // the emoji is 4 bytes at offsets 6..9
    for (const offset of [7, 8, 9]) {
      expect(decodeAll(splitAt(bytes, [offset]))).toEqual([{ event: undefined, data: "👋" }]);
    }
    expect(decodeAll(splitAt(bytes, [7, 8, 9]))).toEqual([{ event: undefined, data: "👋" }]);
  });

  it("does not turn a CRLF split between chunks into two line breaks", () => {
    expect(decodeAll([encoder.encode("data: a\r"), encoder.encode("\ndata: b\r"), encoder.encode("\n\r\n")])).toEqual([
      { event: undefined, data: "a\nb" },
    ]);
  });

  it("strips one byte-order mark at the start of the stream only", () => {
    expect(decodeText("\uFEFFdata: a\n\ndata: \uFEFFb\n\n")).toEqual([
      { event: undefined, data: "a" },
      { event: undefined, data: "\uFEFFb" },
    ]);
    const bytes = encoder.encode("\uFEFFdata: a\n\n");
    expect(decodeAll(splitAt(bytes, [1, 2]))).toEqual([{ event: undefined, data: "a" }]);
  });

  it("does not dispatch a block without data, and treats an empty event name as none", () => {
    expect(decodeText("event: ping\n\nevent:\ndata: x\n\n")).toEqual([{ event: undefined, data: "x" }]);
  });

  it("ignores fields whose name only resembles data or event", () => {
    expect(decodeText("data : x\nDATA: y\nevents: z\ndata: kept\n\n")).toEqual([{ event: undefined, data: "kept" }]);
  });

  it("dispatches `data:` with an empty value, and `data` with no colon, as empty data", () => {
    expect(decodeText("data:\n\ndata\n\n")).toEqual([
      { event: undefined, data: "" },
      { event: undefined, data: "" },
    ]);
  });

  it("discards an event not terminated by a blank line at the end of the body", () => {
    const decoder = createSseDecoder();
    expect(decoder.push(encoder.encode("data: done\n\ndata: cut"))).toEqual([{ event: undefined, data: "done" }]);
    expect(decoder.end()).toEqual([]);
    expect(decodeText("data: complete-line-but-no-blank-line\n")).toEqual([]);
  });

  it("replaces malformed UTF-8 with U+FFFD instead of throwing", () => {
    const bytes = new Uint8Array([...encoder.encode("data: a"), 0xff, 0xc3, ...encoder.encode("\n\n")]);
    expect(decodeAll([bytes])).toEqual([{ event: undefined, data: "a\uFFFD\uFFFD" }]);
  });

  it("does not keep a reference to a chunk the caller may reuse", () => {
    const decoder = createSseDecoder();
    const buffer = encoder.encode("data: abc");
    decoder.push(buffer);
    buffer.fill(0x78);
    expect(decoder.push(encoder.encode("def\n\n"))).toEqual([{ event: undefined, data: "abcdef" }]);
  });

  it("agrees with the Anthropic SDK's own SSE parser on random streams", async () => {
    const next = random(7);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
    for (let round = 0; round < 50; round++) {
      let text = "";
      for (let block = 0; block < 20; block++) {
        const newline = pick(["\n", "\r\n", "\r"]);
        if (next() < 0.3) text += `: comment ${block}${newline}`;
        if (next() < 0.5) text += `event: ${pick(["message_delta", "content_block_delta", "x"])}${newline}`;
        const lines = 1 + Math.floor(next() * 3);
        for (let line = 0; line < lines; line++) {
          text += `data:${pick(["", " "])}${pick(["{}", "héllo 👋", "日本語", "[DONE]", "plain"])} ${block}${newline}`;
        }
        text += newline;
      }
      const bytes = encoder.encode(text);
      const expected: SseEvent[] = [];
      for await (const event of Stream.rawEvents(new Response(bytes))) {
        expected.push({ event: event.event ?? undefined, data: event.data });
      }
      expect(decodeAll(randomSplits(bytes, next, 40))).toEqual(expected);
    }
  });

  it("reports block ends at exact byte offsets, a CRLF split between chunks as a continuation", () => {
    const ends: Array<[number, boolean]> = [];
    const parser = new SseStreamParser({
      onEvent: () => {},
      onBlockEnd: (endOffset, continuation) => ends.push([endOffset, continuation]),
    });
    parser.push(encoder.encode("data: a\r\n\r"));
    parser.push(encoder.encode("\n: c\n\ndata: b\n\n"));
    expect(ends).toEqual([
      [10, false],
      [11, true],
      [16, false],
      [25, false],
    ]);
  });

  it("stays linear: one 4 MB event in 64-byte chunks, and 100k small events", () => {
    const big = encoder.encode(`data: ${"x".repeat(4 * 1024 * 1024)}\n\n`);
    const decoder = createSseDecoder();
    let started = performance.now();
    let events: SseEvent[] = [];
    for (let offset = 0; offset < big.length; offset += 64)
      events.push(...decoder.push(big.subarray(offset, offset + 64)));
    expect(events).toHaveLength(1);
    expect(events[0]?.data.length).toBe(4 * 1024 * 1024);
    expect(performance.now() - started).toBeLessThan(2000);

    const small = encoder.encode('event: e\ndata: {"i":1}\n\n'.repeat(100_000));
    started = performance.now();
    events = createSseDecoder().push(small);
    expect(events).toHaveLength(100_000);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
