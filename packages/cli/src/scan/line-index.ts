export interface TextPosition {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units: what editors and SARIF's default `columnKind` count. */
  column: number;
}

/**
 * Turns offsets into line and column with one pass over the text for its newlines and a binary search per lookup,
 * instead of splitting a 5 MB minified line into an array of lines. Only `\n` ends a line, so CRLF text gets the
 * same columns as LF text (the `\r` sits at the end of the line before).
 */
export function createLineIndex(text: string): (offset: number) => TextPosition {
  const lineStarts: number[] = [0];
  for (let newline = text.indexOf("\n"); newline !== -1; newline = text.indexOf("\n", newline + 1)) {
    lineStarts.push(newline + 1);
  }
  // A byte order mark is not a column anyone sees.
  const byteOrderMarkLength = text.charCodeAt(0) === 0xfeff ? 1 : 0;

  return (offset) => {
    let low = 0;
    let high = lineStarts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((lineStarts[middle] ?? 0) <= offset) low = middle;
      else high = middle - 1;
    }
    const lineStart = lineStarts[low] ?? 0;
    const column = offset - lineStart + 1 - (low === 0 ? byteOrderMarkLength : 0);
    return { line: low + 1, column };
  };
}
