import { describe, expect, it } from "vitest";
import { type FakeKeyName, fakeKeys } from "../../test/fixtures/scan/fake-keys";
import { redactKey, redactKeysInText } from "./redact";

describe("redactKey", () => {
  it("shows the public prefix (at most 8 characters) and the last four", () => {
    const key = fakeKeys.openAiProject();
    expect(redactKey(key)).toBe(`sk-proj-…${key.slice(-4)}`);
    expect(redactKey(fakeKeys.anthropicApi())).toMatch(/^sk-ant-….{2}AA$/);
    expect(redactKey(fakeKeys.openAiServiceAccount())).toMatch(/^sk-svcac….{4}$/);
    expect(redactKey(fakeKeys.openAiLegacy())).toMatch(/^sk-….{4}$/);
    expect(redactKey(fakeKeys.google())).toMatch(/^AIza….{4}$/);
  });

  it("never shows more than twelve characters of a key, and no body character but the tail", () => {
    for (const name of Object.keys(fakeKeys) as FakeKeyName[]) {
      const key = fakeKeys[name]();
      const redacted = redactKey(key);
      const [head = "", tail = ""] = redacted.split("…");
      expect(head.length + tail.length).toBeLessThanOrEqual(12);
      expect(key.startsWith(head)).toBe(true);
      expect(key.endsWith(tail)).toBe(true);
      expect(redacted).not.toContain(key.slice(head.length, head.length + 8));
    }
  });

  it("shows nothing of a short string with no known prefix", () => {
    expect(redactKey("hunter2")).toBe("…");
  });
});

describe("redactKeysInText", () => {
  it("replaces every key in a text and leaves the rest", () => {
    const first = fakeKeys.openAiAdmin();
    const second = fakeKeys.google();
    const text = `error in ${first} near ${second}.`;
    expect(redactKeysInText(text)).toBe(`error in ${redactKey(first)} near ${redactKey(second)}.`);
    expect(redactKeysInText("nothing here")).toBe("nothing here");
  });
});
