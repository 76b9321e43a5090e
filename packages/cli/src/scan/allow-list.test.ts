import { describe, expect, it } from "vitest";
import { createAllowList, globToRegExp, parseAllowList } from "./allow-list";

describe("parseAllowList", () => {
  it("reads fingerprints, globs and glob:fingerprint pairs, skipping comments and blank lines", () => {
    const text = [
      "# test keys",
      "",
      "3F9A0C1D2E3F4A5B",
      "dist/legacy/**   # vendored, rotated",
      "test/fixtures/*.js:0123456789abcdef",
      "   ",
    ].join("\r\n");
    expect(parseAllowList(text)).toEqual([
      { fingerprint: "3f9a0c1d2e3f4a5b" },
      { pathGlob: "dist/legacy/**" },
      { pathGlob: "test/fixtures/*.js", fingerprint: "0123456789abcdef" },
    ]);
  });

  it("takes a full SHA-256 as a fingerprint", () => {
    const full = "a".repeat(64);
    expect(parseAllowList(full)).toEqual([{ fingerprint: full }]);
  });
});

describe("createAllowList", () => {
  const allowList = createAllowList([
    { fingerprint: "1111111111111111" },
    { pathGlob: "dist/vendor" },
    { pathGlob: "**/*.map", fingerprint: "2222222222222222" },
    { fingerprint: `3333333333333333${"f".repeat(48)}` },
  ]);

  it("allows a fingerprint in any file", () => {
    expect(allowList.allows("anything/at/all.js", "1111111111111111")).toBe(true);
  });

  it("allows any key under a folder glob", () => {
    expect(allowList.allows("dist/vendor/lib.js", "9999999999999999")).toBe(true);
    expect(allowList.allows("dist/vendored.js", "9999999999999999")).toBe(false);
  });

  it("allows a fingerprint only where its glob matches", () => {
    expect(allowList.allows("dist/app.js.map", "2222222222222222")).toBe(true);
    expect(allowList.allows("dist/app.js", "2222222222222222")).toBe(false);
  });

  it("matches a full SHA-256 entry against the 16-digit fingerprint", () => {
    expect(allowList.allows("x.js", "3333333333333333")).toBe(true);
  });
});

describe("globToRegExp", () => {
  it.each([
    ["*.map", "dist/a/b.js.map", true],
    ["*.map", "b.js.map", true],
    ["dist/*.js", "dist/app.js", true],
    ["dist/*.js", "dist/assets/app.js", false],
    ["dist/**/*.js", "dist/app.js", true],
    ["dist/**/*.js", "dist/assets/deep/app.js", true],
    ["/dist/app.js", "dist/app.js", true],
    ["./dist/app.js", "dist/app.js", true],
    ["dist/", "dist/app.js", true],
    ["app.?s", "src/app.js", true],
    ["a+b(c).js", "a+b(c).js", true],
    ["dist", "distant/app.js", false],
  ])("%s against %s is %s", (glob, file, expected) => {
    expect(globToRegExp(glob).test(file)).toBe(expected);
  });
});
