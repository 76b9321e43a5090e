import type { TollgateAlert } from "../alerts/alert";
import type { TollgateError } from "../errors/tollgate-error";
import type { Subject } from "../limits/subject";
import type { UsageRecord } from "../store/store";
import type { OperationKind } from "../usage/operation";
import type { ProviderName } from "../usage/token-usage";

interface CallFacts {
  callId: string;
  provider: ProviderName;
  operation: OperationKind;
  model: string;
  subject: Subject;
}

/** Worst-case amounts reserved before a call. */
export interface CallEstimate {
  inputTokens: number;
  outputTokens: number;
  costNanoUsd: number;
  /** `false` when the model had no price (no cost limit applied, or `onUnknownModel` gave none). */
  priced: boolean;
}

/** Everything a guard reports through `onEvent`. Never carries an API key. */
export type GuardEvent =
  | ({ type: "call.admitted"; estimate: CallEstimate; waitedMs: number } & CallFacts)
  | ({ type: "call.refused"; error: TollgateError } & CallFacts)
  | ({ type: "call.settled"; record: UsageRecord; estimate: CallEstimate } & CallFacts)
  | ({ type: "limit.shadow-exceeded"; limitId: string; used: number; limit: number } & CallFacts)
  | ({ type: "call.unmetered"; reason: "store-unavailable" | "allowed-unguarded" } & CallFacts)
  | { type: "store.error"; operation: "admit" | "settle" | "record" | "extend-lease" | "alert"; error: Error }
  | { type: "alert"; alert: TollgateAlert };
