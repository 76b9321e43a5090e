import { expect, it } from "vitest";
import { readResultLines, runBatch, sumOfCosts, useBatchFixtures, writePrompts } from "./harness";

const fixtures = useBatchFixtures();

// Two runs of a child process: generous on a loaded machine.
it("stops at the run budget, and a restart does not refill it", { timeout: 45_000 }, async () => {
  const { input, results } = await writePrompts(fixtures.directory, 12);
  const args = ["--input", input, "--results", results];

  // Each call costs about 10 µUSD; 50 µUSD stops the run after a few.
  const first = await runBatch(fixtures.fake, [...args, "--budget-usd", "0.00005"]);
  expect(first.code).toBe(3);
  expect(first.summary.status).toBe("budget-exhausted");
  const afterFirst = await readResultLines(results);
  expect(afterFirst.length).toBeGreaterThan(0);
  expect(afterFirst.length).toBeLessThan(12);
  expect(first.summary.spendNanoUsd).toBe(sumOfCosts(afterFirst));
  expect(first.summary.spendNanoUsd).toBeLessThanOrEqual(50_000);
  expect(fixtures.fake.requests).toHaveLength(afterFirst.length); // a refused call never reaches the provider

  // Restarting does not refill the budget: what was spent is remembered.
  const again = await runBatch(fixtures.fake, [...args, "--budget-usd", "0.00005"]);
  expect(again.summary).toMatchObject({ status: "budget-exhausted", doneThisRun: 0 });
  expect(fixtures.fake.requests).toHaveLength(afterFirst.length);
});
