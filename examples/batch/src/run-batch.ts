import { AsyncLocalStorage } from "node:async_hooks";
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import {
  type Duration,
  formatUsd,
  type GuardEvent,
  guardedClient,
  LimitExceededError,
  type UsageRecord,
} from "@tollgate/core";
import OpenAI from "openai";
import { type BatchResult, createResultsWriter, type Prompt, readPrompts, readResults } from "./jsonl";
import { createProgressBar } from "./progress";

const usage = `Usage: run-batch --input prompts.jsonl [options]

  --input <file>             prompts, one {"id", "prompt"} JSON object per line (required)
  --results <file>           results JSONL, appended to; prompts already in it are skipped
                             (default: <input>.results.jsonl)
  --run-id <id>              the run's session id (default: the one in the results file, or a new one)
  --budget-usd <usd>         spend limit of the run, across restarts (default 1)
  --concurrency <n>          calls in flight at once (default 4)
  --rate <n>/<window>        requests per rolling window, waited for (default 500/1m)
  --model <model>            (default gpt-4o-mini)
  --max-output-tokens <n>    output cap per prompt (default 256)

The OpenAI client reads OPENAI_API_KEY and OPENAI_BASE_URL from the environment.
Ctrl-C stops after the calls in flight finish (a second Ctrl-C stops at once); run again to resume.`;

type StopReason = "interrupted" | "budget-exhausted";

interface Summary {
  runId: string;
  status: "complete" | "incomplete" | StopReason;
  prompts: number;
  done: number;
  skipped: number;
  doneThisRun: number;
  failedThisRun: number;
  remaining: number;
  spendNanoUsd: number;
  spendUsd: string;
  spendThisRunNanoUsd: number;
  /** What the guard's own ledger recorded for this process: equal to the results appended by it. */
  ledgerSpendThisRunNanoUsd: number;
  budgetUsd: number;
  /** Time calls spent waiting for the rate limit (`onLimit: "wait"`), summed over calls. */
  waitedMs: number;
}

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${usage}\n`);
  process.exit(2);
}

function positiveNumber(value: string | undefined, fallback: number, name: string, integer = false): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!(number > 0) || !Number.isFinite(number) || (integer && !Number.isInteger(number))) {
    fail(`--${name} must be a positive ${integer ? "whole " : ""}number`);
  }
  return number;
}

function parseRate(value: string): { requests: number; per: Duration } {
  const match = /^(\d+)\/(\d+(?:ms|s|m|h))$/.exec(value);
  if (match === null || Number(match[1]) === 0) fail("--rate must look like 500/1m (requests per window)");
  return { requests: Number(match[1]), per: match[2] as Duration };
}

const { values } = parseArgs({
  options: {
    input: { type: "string" },
    results: { type: "string" },
    "run-id": { type: "string" },
    "budget-usd": { type: "string" },
    concurrency: { type: "string" },
    rate: { type: "string" },
    model: { type: "string" },
    "max-output-tokens": { type: "string" },
    help: { type: "boolean" },
  },
  strict: true,
});
if (values.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
if (values.input === undefined) fail("--input is required");
const inputPath = values.input;
const resultsPath = values.results ?? `${inputPath.replace(/\.jsonl$/, "")}.results.jsonl`;
const budgetUsd = positiveNumber(values["budget-usd"], 1, "budget-usd");
const concurrency = positiveNumber(values.concurrency, 4, "concurrency", true);
const rate = parseRate(values.rate ?? "500/1m");
const model = values.model ?? "gpt-4o-mini";
const maxOutputTokens = positiveNumber(values["max-output-tokens"], 256, "max-output-tokens", true);

let prompts: Prompt[];
let previous: Map<string, BatchResult>;
try {
  prompts = readPrompts(inputPath);
  const earlier = readResults(resultsPath);
  previous = earlier.results;
  if (earlier.damagedLines > 0) {
    process.stderr.write(`${resultsPath}: ${earlier.damagedLines} damaged line(s) ignored; those prompts run again\n`);
  }
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
const runId =
  values["run-id"] ?? previous.values().next().value?.runId ?? `run-${Date.now()}-${randomBytes(3).toString("hex")}`;
const todo = prompts.filter((prompt) => !previous.has(prompt.id));
const skipped = prompts.length - todo.length;

// The budget spans restarts: what earlier runs spent (the results file) comes off it, and this process's limit is
// the rest. The limit is `session`-scoped and the session is the run id, so it is this run's budget and no other's.
const budgetNanoUsd = Math.round(budgetUsd * 1e9);
let spentNanoUsd = [...previous.values()].reduce((sum, result) => sum + result.costNanoUsd, 0);
const remainingBudgetNanoUsd = budgetNanoUsd - spentNanoUsd;

// Each call runs inside its own async context, so the guard's `call.settled` event (the exact charge, which arrives
// after the SDK call returns) finds the prompt it belongs to.
const callContext = new AsyncLocalStorage<{ settled: (record: UsageRecord) => void }>();
let waitedMs = 0;
const onEvent = (event: GuardEvent) => {
  if (event.type === "call.settled") callContext.getStore()?.settled(event.record);
  if (event.type === "call.admitted") waitedMs += event.waitedMs;
};

const guard = guardedClient({
  providers: { openai: new OpenAI({ maxRetries: 3 }) },
  limits: [
    // A rolling 30-day window: it never resets during a run (a calendar month could, at midnight on the 1st).
    { id: "run-budget", scope: "session", usd: Math.max(remainingBudgetNanoUsd, 1) / 1e9, per: "30d" },
    { id: "request-rate", scope: "global", requests: rate.requests, per: rate.per },
  ],
  onEvent,
});
// `onLimit: "wait"`: a call that hits the rate limit waits for capacity instead of failing. The budget cannot come
// back within `maxWaitMs`, so a budget refusal still throws, at once.
const { openai } = guard.for({ session: runId }, { onLimit: "wait", maxWaitMs: 120_000 });

const progress = createProgressBar(process.stderr);
const writeResult = createResultsWriter(resultsPath);
let doneThisRun = 0;
let failedThisRun = 0;
let spentThisRunNanoUsd = 0;
let inFlight = 0;
let stopReason: StopReason | undefined = remainingBudgetNanoUsd > 0 ? undefined : "budget-exhausted";
let interrupts = 0;

const draw = () =>
  progress.update({
    done: skipped + doneThisRun,
    total: prompts.length,
    spentNanoUsd,
    budgetNanoUsd,
    inFlight,
    failed: failedThisRun,
  });

/** Wakes workers waiting for a call in flight to finish. */
let wake: () => void = () => undefined;
let callFinished = new Promise<void>((resolve) => {
  wake = resolve;
});
function notify(): void {
  wake();
  callFinished = new Promise<void>((resolve) => {
    wake = resolve;
  });
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    interrupts++;
    if (interrupts > 1) {
      progress.log("stopped; calls that were in flight are not in the results and will run again");
      process.exit(130);
    }
    stopReason = "interrupted";
    progress.log(`interrupted: finishing ${inFlight} call(s) in flight (Ctrl-C again to stop at once)`);
    notify();
  });
}

async function runPrompt(prompt: Prompt): Promise<BatchResult> {
  let settle: (record: UsageRecord) => void = () => undefined;
  const settled = new Promise<UsageRecord>((resolve) => {
    settle = resolve;
  });
  const completion = await callContext.run({ settled: settle }, () =>
    openai.chat.completions.create({
      model,
      max_tokens: maxOutputTokens,
      messages: [{ role: "user", content: prompt.prompt }],
    }),
  );
  const record = await Promise.race([
    settled,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error("the guard did not settle the call")), 10_000).unref(),
    ),
  ]);
  return {
    id: prompt.id,
    runId,
    model,
    output: completion.choices[0]?.message.content ?? "",
    inputTokens: record.inputTokens,
    outputTokens: record.outputTokens,
    costNanoUsd: record.costNanoUsd,
    estimated: record.estimated,
    completedAt: new Date().toISOString(),
  };
}

const isBudgetRefusal = (error: unknown) => LimitExceededError.isInstance(error) && error.limitId === "run-budget";

async function worker(queue: Prompt[]): Promise<void> {
  for (;;) {
    if (stopReason !== undefined) return;
    const prompt = queue.shift();
    if (prompt === undefined) return;
    inFlight++;
    draw();
    let outcome: { result: BatchResult } | { error: unknown };
    try {
      outcome = { result: await runPrompt(prompt) };
    } catch (error) {
      outcome = { error };
    }
    inFlight--;
    if ("result" in outcome) {
      writeResult(outcome.result);
      doneThisRun++;
      spentNanoUsd += outcome.result.costNanoUsd;
      spentThisRunNanoUsd += outcome.result.costNanoUsd;
    } else if (isBudgetRefusal(outcome.error)) {
      // Calls in flight hold worst-case reservations; when they settle at their true cost, room may come back,
      // so wait for one to finish (a refusal frees nothing and wakes no one). With nothing in flight, the next
      // prompt's worst case does not fit what is left: the run is over.
      queue.unshift(prompt);
      if (inFlight === 0) {
        stopReason ??= "budget-exhausted";
        notify();
        return;
      }
      await callFinished;
      continue;
    } else {
      failedThisRun++;
      const message = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
      progress.log(`${prompt.id}: failed (${message}); it runs again next time`);
    }
    draw();
    notify();
  }
}

const queue = [...todo];
draw();
await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(todo.length, 1)) }, () => worker(queue)));
progress.finish();
await guard.close();
const [ledger] = await guard.usage();

const done = skipped + doneThisRun;
const summary: Summary = {
  runId,
  status: stopReason ?? (done === prompts.length ? "complete" : "incomplete"),
  prompts: prompts.length,
  done,
  skipped,
  doneThisRun,
  failedThisRun,
  remaining: prompts.length - done,
  spendNanoUsd: spentNanoUsd,
  spendUsd: formatUsd(spentNanoUsd),
  spendThisRunNanoUsd: spentThisRunNanoUsd,
  ledgerSpendThisRunNanoUsd: ledger?.costNanoUsd ?? 0,
  budgetUsd,
  waitedMs: Math.round(waitedMs),
};

const headline = {
  complete: "done",
  incomplete: `${summary.remaining} prompt(s) failed; run again to retry them`,
  interrupted: `interrupted with ${summary.remaining} prompt(s) left; run again to resume`,
  "budget-exhausted": `budget of ${formatUsd(budgetNanoUsd)} reached with ${summary.remaining} prompt(s) left`,
}[summary.status];
progress.log(
  `${headline}\n` +
    `  run ${runId}: ${done}/${prompts.length} prompts (${doneThisRun} now, ${skipped} earlier), ` +
    `${formatUsd(spentNanoUsd)} spent (${formatUsd(spentThisRunNanoUsd)} now) of ${formatUsd(budgetNanoUsd)}\n` +
    `  results: ${resultsPath}`,
);
process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
process.exitCode = { complete: 0, incomplete: 1, "budget-exhausted": 3, interrupted: 130 }[summary.status];
