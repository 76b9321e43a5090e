// The cost of estimation alone: the input-token estimate the guard makes before admitting a call, for a 1 KB, 10 KB
// and 100 KB prompt of English prose (o200k, gpt-tokenizer). The estimator is internal to @tollgate/core (the guard
// calls it on every paid call), so this imports it from the package's sources.
import { estimateInputTokens } from "../packages/core/src/estimation/input-estimate";
import { preloadTokenizer } from "../packages/core/src/estimation/tokenizer";
import type { BenchContext, Section } from "./context";
import { type BenchCase, measure } from "./harness";
import { measurementRow, type Row } from "./report";
import { rowIds } from "./targets";

const words = (
  "the a of to and in that it is was for on are as with his they at be this have from or one had by word but not " +
  "what all were we when your can said there use an each which she do how their if will up other about out many " +
  "then them these so some her would make like him into time has look two more write go see number no way could " +
  "people my than first water been call who oil its now find long down day did get come made may part invoice " +
  "customer account payment currency update report support ticket refund order shipping delivery address policy " +
  "request service billing subscription renewal discount product feature release version error message screen"
).split(" ");

/** A deterministic pseudo-random generator (mulberry32), so every run estimates the same texts. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** English-like prose of exactly `bytes` ASCII bytes: sentences of 6 to 20 common words. */
export function prose(bytes: number, seed: number): string {
  const random = generator(seed);
  const parts: string[] = [];
  let length = 0;
  while (length < bytes) {
    const count = 6 + Math.floor(random() * 15);
    const sentence: string[] = [];
    for (let index = 0; index < count; index++) sentence.push(words[Math.floor(random() * words.length)]!);
    const text = `${sentence.join(" ")}${random() < 0.2 ? "?" : "."} `;
    const capitalised = text.charAt(0).toUpperCase() + text.slice(1);
    parts.push(capitalised);
    length += capitalised.length;
  }
  return parts.join("").slice(0, bytes);
}

/** Prompts per size, used in turn, so no two consecutive estimates see the same text. */
const variants = 16;

const sizes = [
  { id: "1kb", name: "1 KB prompt", bytes: 1_024, scale: 0.5 },
  { id: "10kb", name: "10 KB prompt", bytes: 10_240, scale: 0.2 },
  { id: "100kb", name: "100 KB prompt", bytes: 102_400, scale: 0.05 },
];

export const estimation: Section = {
  name: "estimation",
  async run(context: BenchContext): Promise<Row[]> {
    await preloadTokenizer("o200k_base");
    const rows: Row[] = [];
    for (const size of sizes) {
      context.log(`estimation: ${size.name}`);
      const requests = Array.from({ length: variants }, (_, index) => ({
        model: "gpt-4o-mini",
        max_tokens: 256,
        messages: [{ role: "user", content: prose(size.bytes, index + 1) }],
      }));
      const tokens = (await estimateInputTokens("openai.chat", requests[0])).inputTokens;
      let next = 0;
      const benchCase: BenchCase = {
        id: `estimation.${size.id}`,
        run: () => estimateInputTokens("openai.chat", requests[next++ % variants]),
      };
      const measurement = await measure(benchCase, "sequential", context.budget("sequential", size.scale));
      rows.push(
        measurementRow(
          {
            id: benchCase.id,
            section: "estimation",
            name: `${size.name} (OpenAI chat, o200k, ≈${tokens.toLocaleString("en-US")} tokens)`,
            compare: [{ against: rowIds.guard("openai", "raw", "sequential"), label: "raw OpenAI call" }],
            note: `${((tokens * measurement.opsPerSec) / 1e6).toFixed(2)} M tokens/s`,
          },
          "sequential",
          measurement,
        ),
      );
    }
    return rows;
  },
};
