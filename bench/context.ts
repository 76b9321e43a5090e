// What every section receives: the run's size (full or --quick), its id (for Redis key prefixes and the Postgres
// schema), and where the servers are.
import { randomBytes } from "node:crypto";
import type { Budget, Mode } from "./harness";
import type { Row } from "./report";

export interface BenchContext {
  quick: boolean;
  /** Short random id of this run: Redis keys start with `tollgate-bench-<runId>`, the schema is `tollgate_bench_<runId>`. */
  runId: string;
  redisUrl: string;
  postgresUrl: string;
  /** The budget of one case in a mode; `scale` multiplies the number of calls (cheap cases get more). */
  budget(mode: Mode, scale?: number): Budget;
  log(message: string): void;
}

export interface Section {
  /** The name `--only` selects it by. */
  name: string;
  run(context: BenchContext): Promise<Row[]>;
}

const fullBudgets: Record<Mode, Budget> = {
  sequential: { warmupOps: 1_000, ops: 10_000, rounds: 5, maxMsPerRound: 2_000 },
  concurrent: { warmupOps: 2_000, ops: 40_000, rounds: 5, maxMsPerRound: 2_000 },
};

const quickBudgets: Record<Mode, Budget> = {
  sequential: { warmupOps: 100, ops: 600, rounds: 2, maxMsPerRound: 100 },
  concurrent: { warmupOps: 128, ops: 2_000, rounds: 2, maxMsPerRound: 100 },
};

export function createContext(quick: boolean): BenchContext {
  const budgets = quick ? quickBudgets : fullBudgets;
  return {
    quick,
    runId: randomBytes(4).toString("hex"),
    redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
    postgresUrl: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
    budget(mode, scale = 1) {
      const budget = budgets[mode];
      return {
        ...budget,
        warmupOps: Math.ceil(budget.warmupOps * scale),
        ops: Math.ceil(budget.ops * scale),
      };
    },
    log(message) {
      process.stderr.write(`[bench] ${message}\n`);
    },
  };
}
