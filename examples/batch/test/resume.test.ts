import { costNanoUsd, findPrice } from "@tollgate/core";
import { expect, it } from "vitest";
import { maxOutputTokens, readResultLines, runBatch, sumOfCosts, useBatchFixtures, writePrompts } from "./harness";

const fixtures = useBatchFixtures();

// Two runs of a child process (Node start, the tokenizer's first load): generous on a loaded machine.
it("resumes after Ctrl-C: every prompt done once, and the summary's spend is the sum of the results", {
  timeout: 45_000,
}, async () => {
  const { input, results, ids, texts } = await writePrompts(fixtures.directory, 20);
  fixtures.fake.addRule({ fault: { latencyMs: 100 } });
  // At most 8 requests in any second: the second run has more than 8 prompts left, so calls wait for capacity
  // (`onLimit: "wait"`) instead of failing.
  const args = ["--input", input, "--results", results, "--concurrency", "4", "--rate", "8/1s"];

  const first = await runBatch(fixtures.fake, args, 4);

  expect(first.code).toBe(130);
  expect(first.summary.status).toBe("interrupted");
  expect(first.stderr).toMatch(/interrupted: finishing \d call\(s\) in flight/);
  const afterFirst = await readResultLines(results);
  expect(afterFirst.length).toBeGreaterThanOrEqual(4);
  expect(afterFirst.length).toBeLessThan(12);
  // Calls in flight at the interrupt were finished and written, not lost: each request has its result.
  expect(fixtures.fake.requests).toHaveLength(afterFirst.length);
  expect(first.summary.done).toBe(afterFirst.length);

  const second = await runBatch(fixtures.fake, args);

  expect(second.code).toBe(0);
  expect(second.summary).toMatchObject({
    status: "complete",
    runId: first.summary.runId,
    prompts: 20,
    done: 20,
    skipped: afterFirst.length,
    doneThisRun: 20 - afterFirst.length,
  });
  // The 9th call of the second run cannot start until the first's slot leaves the one-second window: it waits
  // (most of a second on an idle machine; the bound leaves room for a slow one).
  expect(second.summary.waitedMs).toBeGreaterThanOrEqual(100);

  const all = await readResultLines(results);
  expect(all.map((result) => result.id).sort()).toEqual(ids);
  expect(fixtures.fake.requests).toHaveLength(20); // no prompt was sent twice
  expect(new Set(all.map((result) => result.runId))).toEqual(new Set([first.summary.runId]));

  expect(second.summary.spendNanoUsd).toBe(sumOfCosts(all));
  const thisRun = all.slice(afterFirst.length);
  expect(second.summary.spendThisRunNanoUsd).toBe(sumOfCosts(thisRun));
  // The guard's own ledger agrees with the per-prompt charges the script wrote.
  expect(second.summary.ledgerSpendThisRunNanoUsd).toBe(sumOfCosts(thisRun));
  expect(first.summary.ledgerSpendThisRunNanoUsd).toBe(sumOfCosts(afterFirst));

  // And each charge is the price of the usage the provider reported for that prompt (the fake's usage is
  // deterministic: ceil(characters / 4) input tokens, and the output cap).
  const price = findPrice("openai", "gpt-4o-mini")!;
  for (const result of all) {
    const inputTokens = Math.ceil(texts.get(result.id)!.length / 4);
    expect(result).toMatchObject({ inputTokens, outputTokens: maxOutputTokens, estimated: false });
    expect(result.costNanoUsd).toBe(costNanoUsd(price, { inputTokens, outputTokens: maxOutputTokens }).costNanoUsd);
  }
});
