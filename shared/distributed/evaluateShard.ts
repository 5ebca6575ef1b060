// What one worker does for one data shard in one iteration: find the shard's rows of the
// iteration's batch, evaluate θ and θ + ω_j on them through an ensemble kernel, and return the
// unscaled sums (shardPartial.ts). The worker holds only its shard: training rows [start, end).

import { shardRanges } from "../data/shards.ts";
import type { Dataset, Split } from "../data/types.ts";
import type { EnsembleDraw } from "../math/perturbation.ts";
import type { EnsembleKernel } from "../kernels/types.ts";
import type { NetworkModel } from "../models/model.ts";
import { batchIndices, networkProblem, type NetworkProblem } from "../problems/network.ts";
import { kernelPartial, triangleSize, type ShardPartial } from "./shardPartial.ts";
import { trialPoint } from "../math/vector.ts";

export interface ShardSlice {
  index: number;
  /** training rows [start, end) */
  start: number;
  end: number;
}

/** Contiguous, near-equal slices of the training rows, one per shard. */
export function shardPlan(trainRows: number, shards: number): ShardSlice[] {
  if (!Number.isInteger(shards) || shards < 1 || shards > trainRows)
    throw new RangeError(`cannot split ${trainRows} training rows into ${shards} shards`);
  // the same ranges as the sharded dataset format's
  return shardRanges(trainRows, shards).map(([start, end], index) => ({ index, start, end }));
}

/**
 * The rows of iteration k's batch that fall in the slice, as offsets into the slice, in batch
 * order. `batchSize` undefined (or ≥ the training rows) means the full batch.
 */
export function shardBatchRows(
  trainRows: number,
  batchSize: number | undefined,
  batchSeed: number,
  iteration: number,
  slice: ShardSlice,
): Int32Array {
  if (batchSize === undefined || batchSize >= trainRows)
    return Int32Array.from({ length: slice.end - slice.start }, (_, i) => i);
  const idx = new Int32Array(batchSize),
    perm = new Int32Array(trainRows);
  batchIndices(trainRows, batchSize, batchSeed, iteration, idx, perm);
  const out: number[] = [];
  for (const r of idx) if (r >= slice.start && r < slice.end) out.push(r - slice.start);
  return Int32Array.from(out);
}

/** What a worker knows about its shard of a job. */
export interface ShardData {
  model: NetworkModel;
  loss: "cross-entropy" | "least-squares";
  kind: Dataset["kind"];
  outputs: number;
  /** the shard's training rows (slice.end − slice.start of them) */
  rows: Split;
  slice: ShardSlice;
  trainRows: number;
  batchSize?: number;
  batchSeed: number;
}

export interface ShardEvaluation extends ShardData {
  iteration: number;
  theta: Float64Array;
  draw: EnsembleDraw;
  k: number;
  /** builds the ensemble kernel for a problem (reference, onnx, …), without regularization */
  kernel: (problem: NetworkProblem, k: number) => Promise<EnsembleKernel>;
}

/** Copies the given rows of a split. */
function pick(split: Split, rows: Int32Array, features: number, outputs: number): Split {
  const x = new Float32Array(rows.length * features);
  rows.forEach((r, i) => x.set(split.x.subarray(r * features, (r + 1) * features), i * features));
  const out: Split = { x, rows: rows.length };
  if (split.labels) out.labels = Int32Array.from(rows, (r) => split.labels![r]);
  if (split.targets) {
    const t = new Float32Array(rows.length * outputs);
    rows.forEach((r, i) => t.set(split.targets!.subarray(r * outputs, (r + 1) * outputs), i * outputs));
    out.targets = t;
  }
  return out;
}

/** The shard's rows of iteration `iteration`'s batch as a full-batch problem whose loss is the sum over them. */
function shardProblem(e: ShardData, iteration: number): { problem: NetworkProblem | null; rows: number } {
  const local = shardBatchRows(e.trainRows, e.batchSize, e.batchSeed, iteration, e.slice);
  if (local.length === 0) return { problem: null, rows: 0 };
  const features = e.rows.x.length / e.rows.rows;
  const train = pick(e.rows, local, features, e.outputs);
  const dataset: Dataset = { kind: e.kind, features, outputs: e.outputs, names: [], train, test: train };
  return {
    problem: networkProblem({
      model: e.model,
      dataset,
      loss: e.loss,
      batchSeed: e.batchSeed,
      initSeed: 0,
      lossScale: 1,
    }),
    rows: local.length,
  };
}

export async function evaluateShard(e: ShardEvaluation): Promise<ShardPartial> {
  const { k } = e;
  const { problem, rows } = shardProblem(e, e.iteration);
  const empty = {
    shard: e.slice.index,
    k,
    rows,
    phi: 0,
    correct: e.kind === "classification" ? 0 : NaN,
    gram: new Float64Array(triangleSize(k)),
    rhs: new Float64Array(k),
  };
  if (!problem) return empty;
  const kernel = await e.kernel(problem, k);
  try {
    // the kernel may be a warm one whose timings sum over earlier rounds: this call's share
    const t0 = { ...kernel.timings };
    const part = kernelPartial(
      e.slice.index,
      k,
      rows,
      await kernel.statistics(e.theta, e.draw, problem),
      kernel.members,
    );
    const t = kernel.timings;
    return {
      ...part,
      timings: Float64Array.from([
        t.rng - t0.rng,
        t.pack - t0.pack,
        t.forward - t0.forward,
        t.gram - t0.gram,
        t.update - t0.update,
      ]),
    };
  } finally {
    await kernel.dispose();
  }
}

/** A line search's rungs: Φ at base + η d for each η, on iteration `iteration`'s batch. */
export interface TrialRungs {
  iteration: number;
  base: Float64Array;
  direction: Float64Array;
  etas: readonly number[];
}

/**
 * Σ over the shard's rows of the trial's batch of the loss at each rung θ + η_j d of a line-search
 * ladder, and how many rows, through the same kernel as the statistics (its single-member forward).
 */
export async function shardObjectives(
  e: ShardData,
  ladder: TrialRungs,
  k: number,
  kernel: ShardEvaluation["kernel"],
): Promise<{ rows: number; phis: number[] }> {
  const { problem, rows } = shardProblem(e, ladder.iteration);
  if (!problem) return { rows: 0, phis: ladder.etas.map(() => 0) };
  const kern = await kernel(problem, k);
  try {
    const phis: number[] = [];
    for (const eta of ladder.etas)
      phis.push(await kern.objective(trialPoint(ladder.base, ladder.direction, eta), problem));
    return { rows, phis };
  } finally {
    await kern.dispose();
  }
}
