import { describe, expect, it } from "vitest";
import { createLineIndex } from "./line-index";

describe("createLineIndex", () => {
  it("gives 1-based lines and columns for LF text", () => {
    const locate = createLineIndex("ab\ncd\n\nef");
    expect(locate(0)).toEqual({ line: 1, column: 1 });
    expect(locate(1)).toEqual({ line: 1, column: 2 });
    expect(locate(3)).toEqual({ line: 2, column: 1 });
    expect(locate(7)).toEqual({ line: 4, column: 1 });
    expect(locate(8)).toEqual({ line: 4, column: 2 });
  });

  it("counts CRLF text like LF text", () => {
    const locate = createLineIndex("ab\r\ncd\r\nef");
    expect(locate(4)).toEqual({ line: 2, column: 1 });
    expect(locate(9)).toEqual({ line: 3, column: 2 });
  });

  it("does not count a byte order mark as a column", () => {
    const locate = createLineIndex("\uFEFFkey\nnext");
    expect(locate(1)).toEqual({ line: 1, column: 1 });
    expect(locate(6)).toEqual({ line: 2, column: 2 });
  });

  it("finds the column on a multi-megabyte line without splitting it", () => {
    const text = `${"x".repeat(3_000_000)}\n${"y".repeat(10)}`;
    const locate = createLineIndex(text);
    expect(locate(2_999_999)).toEqual({ line: 1, column: 3_000_000 });
    expect(locate(3_000_005)).toEqual({ line: 2, column: 5 });
  });
});
