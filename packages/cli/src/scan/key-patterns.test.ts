import { describe, expect, it } from "vitest";
import { type FakeKeyName, fakeKeys, placeholderKeys } from "../../test/fixtures/scan/fake-keys";
import { findKeyMatches, keyDetectors } from "./key-patterns";

const expectedDetector: Record<FakeKeyName, { provider: string; kind: string }> = {
  openAiProject: { provider: "openai", kind: "project" },
  openAiServiceAccount: { provider: "openai", kind: "service-account" },
  openAiAdmin: { provider: "openai", kind: "admin" },
  openAiLegacy: { provider: "openai", kind: "legacy" },
  openAiUnlabeled: { provider: "openai", kind: "other" },
  anthropicApi: { provider: "anthropic", kind: "api" },
  anthropicAdmin: { provider: "anthropic", kind: "admin" },
  google: { provider: "google", kind: "api" },
};

describe("findKeyMatches", () => {
  for (const [name, expected] of Object.entries(expectedDetector)) {
    it(`finds a ${name} key whole, with its provider and kind`, () => {
      const key = fakeKeys[name as FakeKeyName]();
      const matches = findKeyMatches(`const apiKey = "${key}";`);
      expect(matches).toHaveLength(1);
      expect(matches[0]?.index).toBe(16);
      expect(matches[0]?.key).toBe(key);
      expect(matches[0]?.detector).toMatchObject(expected);
    });
  }

  it("finds keys in every quoting and delimiting context a bundle or config uses", () => {
    const key = fakeKeys.openAiProject();
    for (const context of [
      `"${key}"`,
      `'${key}'`,
      `\`${key}\``,
      `=${key}\n`,
      `:${key},`,
      `(${key})`,
      `>${key}<`,
      key,
    ]) {
      expect(findKeyMatches(context).map((match) => match.key)).toEqual([key]);
    }
  });

  it("does not match a key glued to more key characters on either side", () => {
    const key = fakeKeys.google();
    expect(findKeyMatches(`x${key}`)).toEqual([]);
    expect(findKeyMatches(`${key}x`)).toEqual([]);
    expect(findKeyMatches(`-${key}`)).toEqual([]);
    expect(findKeyMatches(`${key}_`)).toEqual([]);
    // A legacy-length body without the marker: 48 alphanumerics match, 49 are something else.
    const legacy = fakeKeys.openAiLegacy().replace(["T3Bl", "bkFJ"].join(""), "Zq8wLm3P");
    expect(findKeyMatches(legacy).map((match) => match.detector.kind)).toEqual(["legacy"]);
    expect(findKeyMatches(`${legacy}9`)).toEqual([]);
  });

  it("finds a key right after a JSON or URL escape, as in sourcesContent or a query string", () => {
    const key = fakeKeys.anthropicApi();
    expect(findKeyMatches(`"line one\\n${key}\\n"`).map((match) => match.key)).toEqual([key]);
    expect(findKeyMatches(`"\\u0022${key}\\u0022"`).map((match) => match.key)).toEqual([key]);
    expect(findKeyMatches(`?key%3D${key}&x=1`).map((match) => match.key)).toEqual([key]);
  });

  it("leaves placeholders alone", () => {
    for (const placeholder of placeholderKeys()) {
      expect(findKeyMatches(`key = "${placeholder}"`), placeholder.slice(0, 24)).toEqual([]);
    }
  });

  it("requires the OpenAI marker in the long forms and Anthropic's AA tail", () => {
    const project = fakeKeys.openAiProject();
    expect(findKeyMatches(project.replace(["T3Bl", "bkFJ"].join(""), "Q3BlbkFJ"))).toEqual([]);
    const anthropic = fakeKeys.anthropicApi();
    expect(findKeyMatches(`${anthropic.slice(0, -2)}AB`)).toEqual([]);
  });

  it("finds several keys on one line, in order", () => {
    const keys = [fakeKeys.google(), fakeKeys.openAiProject(), fakeKeys.anthropicAdmin()];
    const matches = findKeyMatches(keys.map((key) => `"${key}"`).join(","));
    expect(matches.map((match) => match.key)).toEqual(keys);
  });

  it("names every detector by a distinct provider and kind", () => {
    const names = keyDetectors.map((detector) => `${detector.provider}/${detector.kind}`);
    expect(new Set(names).size).toBe(names.length);
  });
});
