import { describe, expect, it } from "vitest";
import { defaultMaxFileBytes, parseScanArguments } from "./scan-arguments";

describe("parseScanArguments", () => {
  it("takes paths and defaults", () => {
    expect(parseScanArguments(["dist", "public"])).toEqual({
      ok: true,
      options: {
        paths: ["dist", "public"],
        format: "text",
        allowFiles: [],
        allowPatterns: [],
        maxFileBytes: defaultMaxFileBytes,
        help: false,
      },
    });
  });

  it("reads every flag, as the next argument or after =", () => {
    const parsed = parseScanArguments([
      "--format",
      "sarif",
      "dist",
      "--allow=allow.txt",
      "--allow-pattern",
      "^AIzaSyTEST",
      "--allow-pattern=EXAMPLE$",
      "--max-file-bytes",
      "1000",
      "--",
      "--odd-folder-name",
    ]);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.options.format).toBe("sarif");
    expect(parsed.options.paths).toEqual(["dist", "--odd-folder-name"]);
    expect(parsed.options.allowFiles).toEqual(["allow.txt"]);
    expect(parsed.options.allowPatterns.map(String)).toEqual(["/^AIzaSyTEST/", "/EXAMPLE$/"]);
    expect(parsed.options.maxFileBytes).toBe(1000);
  });

  it.each([
    [[], "give at least one path to scan"],
    [["dist", "--format", "xml"], "--format must be one of text, json, sarif"],
    [["dist", "--format"], "--format needs a value"],
    [["dist", "--max-file-bytes", "10MB"], "--max-file-bytes must be a whole number of bytes"],
    [["dist", "--verbose"], "unknown option --verbose"],
  ])("rejects %j", (argv, message) => {
    expect(parseScanArguments(argv)).toEqual({ ok: false, message });
  });

  it("rejects a bad regular expression without repeating it", () => {
    const secretLooking = "sk-proj-(unclosed";
    const parsed = parseScanArguments(["dist", "--allow-pattern", secretLooking]);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.message).toMatch(/^--allow-pattern #1 is not a valid regular expression/);
    expect(parsed.message).not.toContain(secretLooking);
  });

  it("accepts --help without paths", () => {
    expect(parseScanArguments(["--help"])).toMatchObject({ ok: true, options: { help: true } });
  });
});
