import type { UsageRow } from "@tollgate/core";
import type { RecordedRequest } from "@tollgate/testing";
import { type CrashLine, crashCost } from "./crash-setup";

/** Requests, tokens and nano-USD: what the counters hold. */
export interface Amounts {
  requests: number;
  tokens: number;
  usd: number;
}

/** What a call is known to be from outside its dead process: the lines it printed, the provider's log, the ledger. */
export type CallFate =
  /** Refused at admission: charged nothing. */
  | "refused"
  /** Settled and in the ledger: counted at its true amounts. */
  | "ledgered"
  /** Admitted, and the provider never finished answering before the kill: surely unsettled, counted as reserved. */
  | "held"
  /** Admitted, answered in full, killed around settlement: counted as reserved or as settled, whichever happened. */
  | "settling"
  /** Started, killed before the process learnt whether it was admitted: counted for nothing or as reserved. */
  | "admitting";

export interface CrashReference {
  /** What the global counters must hold: the sum over every call of what it is counted at. */
  expected: Amounts;
  fates: Record<CallFate, number>;
  /** Of the `settling` calls, those the store holds as settled (the rest keep their reservation). */
  settledAroundKill: number;
  /** Of the `admitting` calls, those the store admitted. */
  admittedAroundKill: number;
  /** Calls whose slot the store must hold until the lease ends (the `held` ones), per child. */
  heldByChild: Map<string, number>;
  /** Calls the children reported settled. */
  reportedSettled: number;
  /** Broken promises, each a sentence: a reported settlement missing from the ledger, a charge no state explains… */
  violations: string[];
}

interface CallFacts {
  child: string;
  admitted: Amounts | undefined;
  settled: { tokens: number; usdNano: number } | undefined;
  refused: boolean;
  failed: string | undefined;
}

const same = (left: Amounts, right: Amounts) =>
  left.requests === right.requests && left.tokens === right.tokens && left.usd === right.usd;
const show = (amounts: Amounts) => `${amounts.requests} req / ${amounts.tokens} tok / ${amounts.usd} nUSD`;

/** The call id a request to the provider carries in its prompt (`crash <call> …`). */
function callOfRequest(request: RecordedRequest): string | undefined {
  return /"crash (c\d+-(?:warm|\d+)-\d+) /.exec(JSON.stringify(request.body))?.[1];
}

function collectFacts(linesByChild: ReadonlyMap<string, readonly CrashLine[]>): Map<string, CallFacts> {
  const calls = new Map<string, CallFacts>();
  for (const [child, lines] of linesByChild) {
    for (const line of lines) {
      if (line.kind === "ready") continue;
      const facts = calls.get(line.call) ?? {
        child,
        admitted: undefined,
        settled: undefined,
        refused: false,
        failed: undefined,
      };
      calls.set(line.call, facts);
      if (line.kind === "admitted") facts.admitted = { requests: 1, tokens: line.tokens, usd: line.usdNano };
      if (line.kind === "settled") facts.settled = { tokens: line.tokens, usdNano: line.usdNano };
      if (line.kind === "refused") facts.refused = true;
      if (line.kind === "failed") facts.failed = line.message;
    }
  }
  return calls;
}

/**
 * The calls a dead process could not report on: killed around settlement (`settling`) or during admission
 * (`admitting`). The test reads what the store holds for each of them (their per-call counters) and passes it to
 * `crashReference`, which checks that it is one of the states the call can legitimately be in.
 */
export function undecidedCalls(
  linesByChild: ReadonlyMap<string, readonly CrashLine[]>,
  providerLog: readonly RecordedRequest[],
  ledgerRows: readonly UsageRow[],
): string[] {
  const inLedger = new Set(ledgerRows.map((row) => row.group.key));
  const completed = new Set(providerLog.filter((request) => request.completed).map(callOfRequest));
  return [...collectFacts(linesByChild)]
    .filter(
      ([call, facts]) => !facts.refused && !inLedger.has(call) && (facts.admitted === undefined || completed.has(call)),
    )
    .map(([call]) => call);
}

/**
 * Rebuilds what the store must hold after the children died, from what they printed before the kill, what reached
 * the fake provider, the ledger (rows grouped by `key`: one per call) and, for the undecided calls, the per-call
 * counters. A settlement is atomic and comes before its ledger record, so a call in the ledger was settled; a call
 * the provider had not finished answering cannot have been settled by a process that died waiting for it.
 */
export function crashReference(
  linesByChild: ReadonlyMap<string, readonly CrashLine[]>,
  providerLog: readonly RecordedRequest[],
  ledgerRows: readonly UsageRow[],
  undecided: ReadonlyMap<string, Amounts>,
): CrashReference {
  const calls = collectFacts(linesByChild);
  const violations: string[] = [];
  const requests = new Map<string, RecordedRequest>();
  for (const request of providerLog) {
    const call = callOfRequest(request);
    if (call === undefined) continue;
    if (requests.has(call)) violations.push(`call ${call} reached the provider twice`);
    requests.set(call, request);
  }
  const ledger = new Map<string, UsageRow>();
  for (const row of ledgerRows) if (row.group.key !== undefined) ledger.set(row.group.key, row);

  const expected: Amounts = { requests: 0, tokens: 0, usd: 0 };
  const count = (amounts: Amounts) => {
    expected.requests += amounts.requests;
    expected.tokens += amounts.tokens;
    expected.usd += amounts.usd;
  };
  const fates: Record<CallFate, number> = { refused: 0, ledgered: 0, held: 0, settling: 0, admitting: 0 };
  const heldByChild = new Map<string, number>();
  let reportedSettled = 0;
  let settledAroundKill = 0;
  let admittedAroundKill = 0;
  for (const [call, facts] of calls) {
    const row = ledger.get(call);
    const request = requests.get(call);
    if (facts.failed !== undefined) violations.push(`call ${call} failed: ${facts.failed}`);
    if (facts.settled !== undefined) {
      reportedSettled++;
      if (row === undefined) violations.push(`call ${call} was reported settled but is not in the ledger`);
      else if (row.inputTokens + row.outputTokens !== facts.settled.tokens || row.costNanoUsd !== facts.settled.usdNano)
        violations.push(`call ${call} is in the ledger with other amounts than it reported`);
    }
    if (facts.refused) {
      fates.refused++;
      if (row !== undefined || request !== undefined) violations.push(`refused call ${call} was sent or recorded`);
      continue;
    }
    if (row !== undefined) {
      fates.ledgered++;
      if (row.requests !== 1) violations.push(`call ${call} has ${row.requests} ledger records`);
      count({ requests: 1, tokens: row.inputTokens + row.outputTokens, usd: row.costNanoUsd });
      continue;
    }
    if (facts.admitted !== undefined && request?.completed !== true) {
      fates.held++;
      heldByChild.set(facts.child, (heldByChild.get(facts.child) ?? 0) + 1);
      count(facts.admitted);
      continue;
    }
    const reading = undecided.get(call);
    if (reading === undefined) {
      violations.push(`call ${call} is undecided and its counters were not read`);
      continue;
    }
    if (facts.admitted !== undefined) {
      fates.settling++;
      const usage = request?.usage;
      const settled =
        usage === undefined
          ? facts.admitted // an answer without usage settles at the reservation
          : {
              requests: 1,
              tokens: usage.inputTokens + usage.outputTokens,
              usd: crashCost(usage.inputTokens, usage.outputTokens),
            };
      if (same(reading, settled)) settledAroundKill++;
      else if (!same(reading, facts.admitted))
        violations.push(
          `call ${call} holds ${show(reading)}: neither its reservation (${show(facts.admitted)}) nor its settlement (${show(settled)})`,
        );
      count(reading);
      continue;
    }
    // The admission line is printed before the request is sent: a request without it means a broken protocol.
    if (request !== undefined) violations.push(`call ${call} reached the provider without an admission line`);
    fates.admitting++;
    if (reading.requests === 1 && reading.tokens > 0 && reading.usd > 0) admittedAroundKill++;
    else if (!same(reading, { requests: 0, tokens: 0, usd: 0 }))
      violations.push(`call ${call}, never answered, holds ${show(reading)}: neither nothing nor a reservation`);
    count(reading);
  }
  for (const call of ledger.keys()) {
    if (!calls.has(call)) violations.push(`the ledger holds ${call}, which no child started`);
  }
  return { expected, fates, settledAroundKill, admittedAroundKill, heldByChild, reportedSettled, violations };
}
