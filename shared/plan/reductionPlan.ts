// What a round's reduction costs (pure): the bytes the shards' partials and the tree's sums put in
// the store, the bytes each reduction task reads, the tree's levels, the reducer's time and its
// memory, from K, S, the precision, the fan-in and two times measured here: decoding and adding one
// partial, and the K×K solve. A reducer that cannot fit its function's memory or time is named,
// with the fields that change it.

import { partialBytes, type PartialPrecision } from "../distributed/partialCodec.ts";
import { treeLevels } from "../distributed/reductionTree.ts";
import { PARTIAL_PHASES, triangleSize } from "../distributed/shardPartial.ts";

/** Bytes per second one function reads from S3 (a single GET stream; the plan states it). */
export const S3_READ_BYTES_PER_SECOND = 100e6;
/** A Node.js function's own memory before it reads anything (the runtime, the bundle, the SDK). */
export const FUNCTION_BASE_BYTES = 200 * 2 ** 20;

export interface ReductionInput {
  k: number;
  shards: number;
  precision: PartialPrecision;
  fanIn: number;
  /** measured here: seconds to decode one shard partial and add it to the running sum */
  partialSeconds: number;
  /** measured here: seconds for the K×K solve */
  solveSeconds: number;
  /** the reduce (and combine) function's memory (MB) and time limit (s) */
  memoryMb: number;
  timeoutSeconds: number;
}

export interface ReductionPlan {
  /** nodes at each level of the tree (empty: the reducer reads every shard) */
  levels: number[];
  /** bytes one shard's partial has (as the evaluate task writes it), and one tree node's sum */
  partialBytes: number;
  sumBytes: number;
  /** bytes a round puts in the store (partials and sums) and reads back from it */
  bytesWritten: number;
  bytesRead: number;
  /** the reducer's partials read (the last level's nodes, or the shards) */
  reducerReads: number;
  /** seconds: one combine task, the tree's levels one after another, the reduce task */
  combineSeconds: number;
  treeSeconds: number;
  reduceSeconds: number;
  /** the reducer's peak memory: the runtime, the running sum and one partial read, the K×K system */
  reducerBytes: number;
}

export function reductionPlan(p: ReductionInput): ReductionPlan {
  const phases = PARTIAL_PHASES.length;
  const shardBytes = partialBytes(p.k, p.precision, phases);
  const sumBytes = partialBytes(p.k, "float64", phases);
  const levels = treeLevels(p.shards, p.fanIn).map((l) => l.nodes.length);
  const nodes = levels.reduce((a, b) => a + b, 0);
  // every partial is written once and read once (by its combine task, or by the reducer), every sum too
  const bytesWritten = p.shards * shardBytes + nodes * sumBytes;
  const read = (bytes: number) => bytes / S3_READ_BYTES_PER_SECOND + p.partialSeconds * (bytes / shardBytes);
  const combineSeconds = levels.length > 0 ? p.fanIn * read(levels.length > 1 ? sumBytes : shardBytes) : 0;
  const reducerReads = levels.length > 0 ? levels[levels.length - 1] : p.shards;
  const reducerBytesEach = levels.length > 0 ? sumBytes : shardBytes;
  const reduceSeconds = reducerReads * read(reducerBytesEach) + p.solveSeconds;
  const k2 = 8 * p.k * p.k;
  return {
    levels,
    partialBytes: shardBytes,
    sumBytes,
    bytesWritten,
    bytesRead: bytesWritten,
    reducerReads,
    combineSeconds,
    treeSeconds: levels.length * combineSeconds,
    reduceSeconds,
    // the running sum and a decoded partial (packed float64), the bytes read, then the K×K
    // statistics, the solve's system, its factor and the factorization's own copy
    reducerBytes: FUNCTION_BASE_BYTES + 2 * 8 * triangleSize(p.k) + reducerBytesEach + 4 * k2,
  };
}

/** A job whose reducer cannot run in its function; `path`: the job field to change first. */
export class ReducerDoesNotFit extends RangeError {
  override name = "ReducerDoesNotFit";
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

/** Why the reducer cannot run in its function, naming the fields to change; null when it can. */
export function reductionRefusal(plan: ReductionPlan, p: ReductionInput): ReducerDoesNotFit | null {
  const mb = (b: number) => `${Math.ceil(b / 2 ** 20)} MB`;
  if (plan.reducerBytes > p.memoryMb * 2 ** 20)
    return new ReducerDoesNotFit(
      `the reducer needs about ${mb(plan.reducerBytes)} at K = ${p.k} (the K×K system four times ` +
        `over, a running sum and a partial), more than its function's ${p.memoryMb} MB: lower ` +
        `optimizer.ensembleSize, or deploy with more memory (--memory)`,
      "optimizer.ensembleSize",
    );
  const slowest = Math.max(plan.reduceSeconds, plan.combineSeconds);
  if (slowest > p.timeoutSeconds)
    return new ReducerDoesNotFit(
      `a reduction task would take about ${slowest.toFixed(0)} s, more than its function's ` +
        `${p.timeoutSeconds} s limit: ${
          p.solveSeconds > slowest / 2
            ? "the K×K solve is most of it, so lower optimizer.ensembleSize"
            : 'lower compute.reduceFanIn (a deeper tree), set compute.partialPrecision to "float32", or ' +
              "lower optimizer.ensembleSize"
        }`,
      p.solveSeconds > slowest / 2 ? "optimizer.ensembleSize" : "compute.reduceFanIn",
    );
  return null;
}
