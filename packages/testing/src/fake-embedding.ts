/** Vector length when the request does not ask for one (`dimensions` / `outputDimensionality`). */
export const defaultEmbeddingDimensions = 8;

const maximumEmbeddingDimensions = 4096;

/**
 * A deterministic vector for `seedText`. Every value is a multiple of 1/1024 in [-0.5, 0.5), which Float32
 * represents exactly, so the float and the base64 (Float32LE) encodings decode to identical numbers.
 */
export function fakeEmbedding(seedText: string, requestedDimensions: unknown): number[] {
  const dimensions =
    typeof requestedDimensions === "number" && Number.isInteger(requestedDimensions) && requestedDimensions > 0
      ? Math.min(requestedDimensions, maximumEmbeddingDimensions)
      : defaultEmbeddingDimensions;
  let hash = 7;
  for (let index = 0; index < seedText.length; index += 1) {
    hash = (hash * 31 + seedText.charCodeAt(index)) % 1024;
  }
  return Array.from({ length: dimensions }, (_unused, index) => ((hash + index * 97) % 1024) / 1024 - 0.5);
}

/** The base64 of the vector as little-endian Float32, which is what OpenAI sends for `encoding_format: "base64"`. */
export function toBase64Float32(values: readonly number[]): string {
  const buffer = Buffer.alloc(values.length * 4);
  values.forEach((value, index) => {
    buffer.writeFloatLE(value, index * 4);
  });
  return buffer.toString("base64");
}
