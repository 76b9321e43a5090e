import { formatUsd } from "@tollgate/core";

export interface ProgressState {
  done: number;
  total: number;
  spentNanoUsd: number;
  budgetNanoUsd: number;
  inFlight: number;
  failed: number;
}

const width = 24;

export function renderProgress(state: ProgressState): string {
  const filled = state.total === 0 ? width : Math.floor((width * state.done) / state.total);
  const percent = state.total === 0 ? 100 : Math.floor((100 * state.done) / state.total);
  const failed = state.failed > 0 ? `, ${state.failed} failed` : "";
  return (
    `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${state.done}/${state.total} ${percent}%` +
    ` | ${formatUsd(state.spentNanoUsd)} of ${formatUsd(state.budgetNanoUsd)} | ${state.inFlight} in flight${failed}`
  );
}

/**
 * The progress bar on stderr (stdout carries the summary, so it can be piped). On a terminal it redraws one line;
 * anywhere else (CI logs, a test reading the pipe) it prints one line per update.
 */
export function createProgressBar(stream: NodeJS.WriteStream): {
  update(state: ProgressState): void;
  log(message: string): void;
  finish(): void;
} {
  let drawn = false;
  return {
    update(state) {
      if (stream.isTTY) {
        stream.write(`\r\x1b[2K${renderProgress(state)}`);
        drawn = true;
      } else {
        stream.write(`${renderProgress(state)}\n`);
      }
    },
    log(message) {
      if (drawn) stream.write("\r\x1b[2K");
      drawn = false;
      stream.write(`${message}\n`);
    },
    finish() {
      if (drawn) stream.write("\n");
      drawn = false;
    },
  };
}
