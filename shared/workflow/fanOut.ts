// One round of the workflow fans an ask out over items and reduces their shares into the answer
// the process is told. Two fan-outs implement this: data shards (a network job: each item is a
// shard's partial statistics and ladder sums, shardFanOut.ts) and member blocks (an inverse job:
// each item is the forward at a block of the round's points, memberFanOut.ts). The workflow's
// steps (steps.ts) drive either without knowing which.

import type { CrashHook } from "./hooks.ts";
import type { WorkerCache } from "../distributed/workerCache.ts";
import type { TreeLevel } from "../distributed/reductionTree.ts";

/** What a task runs with besides its event: the worker's cache, its warnings, fault injection. */
export interface Worker {
  cache: WorkerCache;
  /** prints a warning once per worker (a kernel fallback would otherwise repeat every round) */
  warn(line: string): void;
  crash: CrashHook;
}

/** The state machine's branch for a job's rounds (definition.ts's Fan out). */
export type Branch = "shards" | "gpu" | "members" | "lambda";

export interface FanOut {
  readonly branch: Branch;
  /** the items of every round: shard or block indices 0..items−1 */
  readonly items: number;
  /** data shards: the reduction tree's levels between the items and the reducer (none: the
   *  reducer reads every item) */
  readonly tree?: TreeLevel[];
  /** data shards: node `node` of level `level` of round `round`'s reduction tree, summed and stored */
  combine?(round: number, level: number, node: number): Promise<void>;
  /** item `item`'s share of round `round`'s ask, evaluated and stored; a share already stored whole
   *  is left as it is unless `force` */
  evaluate(round: number, item: number, ask: unknown, opts?: { force?: boolean }): Promise<void>;
  /** the round's answer from every item's share, evaluating again any missing or unreadable; and
   *  the seconds per phase the items and the reduction took, for the report */
  answer(round: number, ask: unknown): Promise<{ answer: unknown; timings?: Record<string, number> }>;
  /** a lambda forward's block: the request the state machine sends the user's function */
  request?(round: number, item: number, ask: unknown): Promise<unknown>;
  /** a lambda forward's block: the function's answer, stored as the block's outputs */
  store?(round: number, item: number, ask: unknown, outputs: unknown): Promise<void>;
}

/** A worker's warnings, each printed once. */
export function onceWarner(
  print: (line: string) => void = (line) => console.warn(`enkf: warning: ${line}`),
): (line: string) => void {
  const seen = new Set<string>();
  return (line) => {
    if (seen.has(line)) return;
    seen.add(line);
    print(line);
  };
}
