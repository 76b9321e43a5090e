import { pathToFileURL } from "node:url";
import { type KeyDetector, keyDetectors } from "./key-patterns";
import type { KeyFinding, ScanReport } from "./scan-report";

/** The OASIS schema of SARIF 2.1.0 (errata 01), the one GitHub code scanning documents. */
export const sarifSchemaUri =
  "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

export const sarifToolName = "tollgate-scan";

/** `openai-project-key`: stable across runs, since code scanning matches alerts by rule id. */
export function sarifRuleId(provider: string, kind: string): string {
  return `${provider}-${kind}-key`;
}

export interface SarifOptions {
  /** Findings' paths are relative to it; it becomes `%SRCROOT%`. */
  cwd: string;
}

/**
 * A SARIF 2.1.0 log with one run. Every detector is a rule (listed whether or not it fired, so rule indexes are
 * the same in every log); each result points at its file with a relative URI under `%SRCROOT%`, a 1-based region,
 * and a partial fingerprint from the key's hash so a key keeps its alert while the bundle around it changes. No
 * snippet is included: the region's text is the key.
 */
export function formatSarifReport(report: ScanReport, options: SarifOptions): string {
  const ruleIndexById = new Map(keyDetectors.map((detector, index) => [ruleIdOf(detector), index]));
  const log = {
    $schema: sarifSchemaUri,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: sarifToolName,
            informationUri: "https://github.com/tollgate-dev/tollgate",
            rules: keyDetectors.map(describeRule),
          },
        },
        originalUriBaseIds: {
          "%SRCROOT%": { uri: `${pathToFileURL(options.cwd).href.replace(/\/?$/, "/")}` },
        },
        columnKind: "utf16CodeUnits",
        invocations: [{ executionSuccessful: true }],
        results: report.findings.map((finding) => describeResult(finding, ruleIndexById)),
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}

function ruleIdOf(detector: KeyDetector): string {
  return sarifRuleId(detector.provider, detector.kind);
}

function describeRule(detector: KeyDetector) {
  return {
    id: ruleIdOf(detector),
    name: detector.title.replace(/(?:^|\s+)(\w)/g, (_match, letter: string) => letter.toUpperCase()),
    shortDescription: { text: `${detector.title} in build output` },
    fullDescription: {
      text: `A string in the ${detector.title} format (${detector.prefix}…) is in files that ship to users. Anyone who downloads them can spend on the account.`,
    },
    help: {
      text: "Revoke the key at the provider, then keep provider calls on a server: the browser should call your backend, which holds the key.",
    },
    defaultConfiguration: { level: "error" },
    properties: { tags: ["security", "secret", detector.provider], "security-severity": "9.0" },
  };
}

function describeResult(finding: KeyFinding, ruleIndexById: ReadonlyMap<string, number>) {
  const ruleId = sarifRuleId(finding.provider, finding.kind);
  const detector = keyDetectors.find((candidate) => ruleIdOf(candidate) === ruleId);
  const origin =
    finding.originalSource === undefined
      ? ""
      : ` It comes from ${finding.originalSource.file} line ${finding.originalSource.line} (via the source map).`;
  return {
    ruleId,
    ruleIndex: ruleIndexById.get(ruleId) ?? -1,
    level: "error",
    message: { text: `${detector?.title ?? "Provider key"} ${finding.redacted} is in build output.${origin}` },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: toRelativeUri(finding.file), uriBaseId: "%SRCROOT%" },
          region: { startLine: finding.line, startColumn: finding.column },
        },
      },
    ],
    partialFingerprints: { "tollgateKeyFingerprint/v1": finding.fingerprint },
    properties: {
      provider: finding.provider,
      kind: finding.kind,
      fingerprint: finding.fingerprint,
      ...(finding.originalSource === undefined ? {} : { originalSource: finding.originalSource }),
    },
  };
}

/** Each path segment percent-encoded (`#`, `?`, spaces), slashes kept: a valid `uri-reference`. */
function toRelativeUri(file: string): string {
  return file
    .split("/")
    .map((segment) => encodeURIComponent(segment))
    .join("/");
}
