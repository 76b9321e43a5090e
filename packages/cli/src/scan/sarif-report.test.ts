import { describe, expect, it } from "vitest";
import { type SarifLog, sarifSchemaErrors } from "../../test/fixtures/scan/sarif-schema";
import { keyDetectors } from "./key-patterns";
import { formatSarifReport, sarifRuleId } from "./sarif-report";
import type { ScanReport } from "./scan-report";

const report: ScanReport = {
  findings: [
    {
      file: "dist/odd name #1/app?.js",
      line: 3,
      column: 7,
      provider: "google",
      kind: "api",
      redacted: "AIza…wxYZ",
      fingerprint: "0123456789abcdef",
    },
    {
      file: "dist/app.js.map",
      line: 1,
      column: 900,
      provider: "openai",
      kind: "project",
      redacted: "sk-proj-…a1B2",
      fingerprint: "fedcba9876543210",
      originalSource: { file: "webpack://app/./src/config.ts", line: 12, column: 5 },
    },
  ],
  scannedFiles: 2,
  scannedBytes: 1000,
  skippedFiles: [],
  allowed: 0,
  elapsedMs: 12,
};

describe("formatSarifReport", () => {
  const log = JSON.parse(formatSarifReport(report, { cwd: "/work/my app" })) as SarifLog;

  it("validates against the official SARIF 2.1.0 schema, with findings and without", () => {
    expect(sarifSchemaErrors(log)).toEqual([]);
    const clean = JSON.parse(formatSarifReport({ ...report, findings: [] }, { cwd: "/work/my app" })) as SarifLog;
    expect(clean.runs[0]?.results).toEqual([]);
    expect(sarifSchemaErrors(clean)).toEqual([]);
  });

  it("the schema check catches what a SARIF consumer would reject", () => {
    const broken = (change: (copy: SarifLog) => void) => {
      const copy = structuredClone(log);
      change(copy);
      return sarifSchemaErrors(copy);
    };
    // An unknown property: SARIF objects are closed.
    expect(broken((copy) => Object.assign(copy.runs[0]!.results[0]!, { snippet: "sk-…" }))).not.toEqual([]);
    // Lines are 1-based.
    expect(
      broken((copy) =>
        Object.assign(copy.runs[0]!.results[0]!.locations[0]!.physicalLocation.region, { startLine: 0 }),
      ),
    ).not.toEqual([]);
    // A level outside the four SARIF knows; an artifact URI that holds a space.
    expect(broken((copy) => Object.assign(copy.runs[0]!.results[0]!, { level: "critical" }))).not.toEqual([]);
    expect(
      broken((copy) =>
        Object.assign(copy.runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation, {
          uri: "dist/a b.js",
        }),
      ),
    ).not.toEqual([]);
    expect(broken((copy) => Object.assign(copy, { version: "2.0.0" }))).not.toEqual([]);
  });

  it("lists one rule per provider and kind, whether or not it fired", () => {
    expect(log.runs[0]?.tool.driver.rules.map((rule) => rule.id)).toEqual(
      keyDetectors.map((detector) => sarifRuleId(detector.provider, detector.kind)),
    );
  });

  it("percent-encodes path segments so the URI stays a relative reference", () => {
    expect(log.runs[0]?.results[0]?.locations[0]?.physicalLocation.artifactLocation.uri).toBe(
      "dist/odd%20name%20%231/app%3F.js",
    );
    expect(log.runs[0]?.originalUriBaseIds?.["%SRCROOT%"]?.uri).toBe("file:///work/my%20app/");
  });

  it("says where a source-mapped key was written, with only the redacted key in the message", () => {
    expect(log.runs[0]?.results[1]?.message.text).toBe(
      "OpenAI project key sk-proj-…a1B2 is in build output. It comes from webpack://app/./src/config.ts line 12 (via the source map).",
    );
    expect(log.runs[0]?.results[1]?.partialFingerprints).toEqual({ "tollgateKeyFingerprint/v1": "fedcba9876543210" });
  });
});
