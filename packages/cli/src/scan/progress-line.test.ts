import { describe, expect, it } from "vitest";
import { createProgressLine } from "./progress-line";

describe("createProgressLine", () => {
  it("redraws at most every 200 ms and clears itself at the end", () => {
    const written: string[] = [];
    let now = 1_000;
    const progress = createProgressLine({ write: (text) => written.push(text), total: 5678, clock: () => now });
    progress.update(1);
    now += 100;
    progress.update(2);
    now += 100;
    progress.update(1234);
    now += 199;
    progress.update(1300);
    progress.finish();
    expect(written).toEqual(["\r scanned 1/5678 files", "\r scanned 1234/5678 files", "\r\u001b[K"]);
  });

  it("writes nothing at the end when it never drew", () => {
    const written: string[] = [];
    createProgressLine({ write: (text) => written.push(text), total: 1, clock: () => 0 }).finish();
    expect(written).toEqual([]);
  });
});
