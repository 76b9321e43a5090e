export interface ProgressLineOptions {
  write: (text: string) => void;
  total: number;
  clock: () => number;
  /** A terminal redrawn more often than this flickers and spends time on output instead of scanning. */
  intervalMs?: number;
}

export interface ProgressLine {
  update(done: number): void;
  /** Clears the line so what follows starts at column one. */
  finish(): void;
}

/** `\r scanned 1234/5678 files`, redrawn in place on stderr at most every 200 ms. */
export function createProgressLine(options: ProgressLineOptions): ProgressLine {
  const intervalMs = options.intervalMs ?? 200;
  let lastDrawnAt = Number.NEGATIVE_INFINITY;
  let drawn = false;
  return {
    update(done) {
      const now = options.clock();
      if (now - lastDrawnAt < intervalMs) return;
      lastDrawnAt = now;
      drawn = true;
      options.write(`\r scanned ${done}/${options.total} files`);
    },
    finish() {
      // Erase to the end of the line: the summary may be shorter than the progress text.
      if (drawn) options.write("\r\u001b[K");
    },
  };
}
