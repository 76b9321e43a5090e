import { describe, expect, it } from "vitest";
import { createTokenCalibration, DEFAULT_INPUT_FACTORS, TokenCalibration } from "./calibration";

describe("TokenCalibration", () => {
  it("starts at the default factors", () => {
    const calibration = new TokenCalibration();
    expect(calibration.factor("anthropic", "claude-sonnet-4-5")).toBe(1.25);
    expect(calibration.factor("google", "gemini-2.5-flash")).toBe(1.1);
    expect(calibration.factor("openai", "gpt-4o")).toBe(1);
    expect(DEFAULT_INPUT_FACTORS).toEqual({ openai: 1, anthropic: 1.25, google: 1.1 });
    expect(calibration.factor("anthropic", "claude-sonnet-4-5", 1.5)).toBe(1.5);
    expect(new TokenCalibration({ defaults: { google: 1.3 } }).factor("google", "gemini-2.5-flash")).toBe(1.3);
  });

  it("converges on actual / estimated × margin", () => {
    const calibration = createTokenCalibration({ margin: 1.05, smoothing: 0.2 });
    for (let index = 0; index < 40; index++) calibration.observe("anthropic", "claude-opus-4-8", 1_000, 1_600);
    expect(calibration.ratio("anthropic", "claude-opus-4-8")).toBeCloseTo(1.6, 6);
    expect(calibration.factor("anthropic", "claude-opus-4-8")).toBeCloseTo(1.68, 6);
    // A later change in the ratio is followed.
    for (let index = 0; index < 60; index++) calibration.observe("anthropic", "claude-opus-4-8", 1_000, 1_400);
    expect(calibration.factor("anthropic", "claude-opus-4-8")).toBeCloseTo(1.47, 3);
  });

  it("moves by the smoothing weight per observation", () => {
    const calibration = new TokenCalibration({ smoothing: 0.5, margin: 1 });
    calibration.observe("google", "g", 100, 200);
    expect(calibration.ratio("google", "g")).toBe(2);
    calibration.observe("google", "g", 100, 300);
    expect(calibration.ratio("google", "g")).toBe(2.5);
  });

  it("never goes below the default factor", () => {
    const calibration = new TokenCalibration();
    for (let index = 0; index < 20; index++) calibration.observe("anthropic", "claude-haiku-4-5", 1_000, 500);
    expect(calibration.ratio("anthropic", "claude-haiku-4-5")).toBeCloseTo(0.5, 6);
    expect(calibration.factor("anthropic", "claude-haiku-4-5")).toBe(1.25);
  });

  it("keeps models apart", () => {
    const calibration = new TokenCalibration();
    calibration.observe("anthropic", "a", 1_000, 3_000);
    expect(calibration.factor("anthropic", "b")).toBe(1.25);
    expect(calibration.factor("google", "a")).toBe(1.1);
  });

  it("ignores nonsense: missing, zero, negative, non-finite and tiny observations", () => {
    const calibration = new TokenCalibration();
    calibration.observe("anthropic", "m", 1_000, undefined);
    calibration.observe("anthropic", "m", 1_000, 0);
    calibration.observe("anthropic", "m", 1_000, -5);
    calibration.observe("anthropic", "m", 1_000, Number.NaN);
    calibration.observe("anthropic", "m", 1_000, Number.POSITIVE_INFINITY);
    calibration.observe("anthropic", "m", 0, 100);
    calibration.observe("anthropic", "m", Number.NaN, 100);
    calibration.observe("anthropic", "m", 10, 500); // below minEstimatedTokens (32)
    expect(calibration.trackedModels).toBe(0);
    expect(calibration.factor("anthropic", "m")).toBe(1.25);
  });

  it("clamps one observation's ratio, so a single odd call cannot swing the factor far", () => {
    const calibration = new TokenCalibration({ margin: 1 });
    calibration.observe("google", "m", 100, 1_000_000);
    expect(calibration.ratio("google", "m")).toBe(10);
  });

  it("tracks at most maxModels, dropping the least recently observed", () => {
    const calibration = new TokenCalibration({ maxModels: 3 });
    for (const model of ["a", "b", "c"]) calibration.observe("anthropic", model, 100, 200);
    calibration.observe("anthropic", "a", 100, 200); // a is now the most recent
    calibration.observe("anthropic", "d", 100, 200); // drops b
    expect(calibration.trackedModels).toBe(3);
    expect(calibration.ratio("anthropic", "b")).toBeUndefined();
    expect(calibration.ratio("anthropic", "a")).toBe(2);
    expect(calibration.ratio("anthropic", "d")).toBe(2);
  });

  it("stays bounded under many distinct (and very long) model ids", () => {
    const calibration = new TokenCalibration();
    for (let index = 0; index < 5_000; index++) {
      calibration.observe("openai", `model-${index}-${"x".repeat(1_000)}`, 100, 120);
    }
    expect(calibration.trackedModels).toBe(1_000);
  });
});
