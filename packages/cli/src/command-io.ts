/** What a command may touch of the outside world, so tests can run it in-process. */
export interface CommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  now(): number;
}

export const processIo: CommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  now: Date.now,
};
