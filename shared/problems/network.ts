// A neural network fitted to a dataset: F(θ) = the network's outputs on the current batch,
// L = softmax cross-entropy (mean over the batch) or least squares (½·mean over the batch).
// With a batch size below the training-set size, iteration k uses a seeded random subset drawn
// without replacement (Philox stream "batch", independent across iterations).

import type { Dataset } from "../data/types.ts";
import { crossEntropy } from "../losses/crossEntropy.ts";
import { leastSquares } from "../losses/leastSquares.ts";
import type { OutputLoss } from "../losses/types.ts";
import { fillUniform, Stream } from "../math/rng.ts";
import { countCorrect } from "../models/accuracy.ts";
import {
  initModel,
  modelForward,
  modelInputs,
  parameterCount as modelParameters,
  type NetworkModel,
} from "../models/model.ts";
import type { Predictor, Problem } from "./types.ts";

export interface NetworkProblemOptions {
  model: NetworkModel;
  dataset: Dataset;
  loss: "cross-entropy" | "least-squares";
  /** rows per iteration; undefined or ≥ the training rows means full batch */
  batchSize?: number;
  /** seed for the batches */
  batchSeed: number;
  /** seed for the initial weights */
  initSeed: number;
  /** a warm start: θ₀ itself (shared/predict/warmStart.ts checked it fits the model), instead of the seeded init */
  theta0?: Float64Array;
  /** weight of each row in the loss (default 1/batch rows: the mean); 1 gives the sum, as a data
   *  shard's partial statistics need */
  lossScale?: number;
}

/** Draws `m` distinct row indices out of `n` for iteration k (partial Fisher–Yates). */
export function batchIndices(n: number, m: number, seed: number, k: number, out: Int32Array, perm: Int32Array): void {
  for (let i = 0; i < n; i++) perm[i] = i;
  const u = new Float64Array(m);
  fillUniform(u, { seed, stream: Stream.batch, iteration: k, member: 0 });
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(u[i] * (n - i));
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
    out[i] = perm[i];
  }
}

/** The loss over `rows` rows of labels/targets, each row weighted `scale` (1/batch rows for a mean). */
function lossFor(
  kind: NetworkProblemOptions["loss"],
  ds: Dataset,
  labels: Int32Array,
  targets: Float64Array,
  rows: number,
  scale = 1 / rows,
): OutputLoss {
  if (kind === "cross-entropy") return crossEntropy(labels.subarray(0, rows), ds.outputs, { scale });
  return leastSquares(targets.subarray(0, rows * ds.outputs), { scale });
}

/** A network problem also shows its model and its batch, for the fast kernels. */
export interface NetworkProblem extends Problem {
  readonly model: NetworkModel;
  /** the problem on iteration k's batch */
  at(k: number): NetworkProblem;
  /** this view's rows: features (rows × inputs) and targets (rows × outputs; one-hot labels for
   *  classification) */
  batch(): { x: Float32Array; rows: number; targets: Float32Array };
  /** accuracy on this batch of outputs f (rows × outputs) at θ; undefined for regression */
  batchAccuracy(f: ArrayLike<number>): number | undefined;
  /** the batch loss restricted to rows [r0, r0 + rows): the losses of a partition add up to `loss` */
  rowsLoss(r0: number, rows: number): OutputLoss;
  /** the weight of each row in the loss (1/batch rows for the mean, 1 for a shard's sum) */
  readonly lossScale: number;
  /** θ₀ is a trained model's (a warm start): the run scores it as iteration 0, so that it never
   *  returns something worse on its validation split than where it started */
  readonly warmStart: boolean;
}

export function isNetworkProblem(p: Problem): p is NetworkProblem {
  return "model" in p && "batch" in p;
}

export function networkProblem(opts: NetworkProblemOptions): NetworkProblem {
  const { model, dataset: ds } = opts;
  if (modelInputs(model) !== ds.features)
    throw new Error(`the model takes ${modelInputs(model)} inputs but the data has ${ds.features} features`);
  if (model.outputs !== ds.outputs)
    throw new Error(
      `the model has ${model.outputs} outputs but the data has ${ds.outputs} ` +
        `${ds.kind === "classification" ? "classes" : "targets"}`,
    );
  if (opts.loss === "cross-entropy" && ds.kind !== "classification")
    throw new Error("cross-entropy needs class labels; this dataset has regression targets");
  const n = ds.train.rows,
    d = ds.features,
    c = ds.outputs;
  const m = opts.batchSize !== undefined && opts.batchSize < n ? opts.batchSize : n;
  const full = m === n;
  const parameterCount = modelParameters(model);

  // classification labels also serve least squares as one-hot targets
  const trainTargets = (split: Dataset["train"]): Float64Array => {
    const t = new Float64Array(split.rows * c);
    if (split.targets) t.set(split.targets);
    else for (let i = 0; i < split.rows; i++) t[i * c + split.labels![i]] = 1;
    return t;
  };
  const allTargets = trainTargets(ds.train);
  const scale = opts.lossScale ?? 1 / m;
  // least-squares targets of each split (one-hot for labels), built once
  const splitTargets = new Map<Dataset["train"], Float64Array>([[ds.train, allTargets]]);
  const targetsOf = (split: Dataset["train"]) => {
    let t = splitTargets.get(split);
    if (!t) {
      t = trainTargets(split);
      splitTargets.set(split, t);
    }
    return t;
  };
  const evalChunk = 1000;
  const evalOut = new Float64Array(evalChunk * c);
  /** Mean loss and accuracy of θ over a whole split, in chunks of rows. */
  async function evaluateSplit(
    split: Dataset["train"],
    theta: Float64Array,
    predict?: Predictor,
  ): Promise<{ loss: number; accuracy?: number }> {
    const targets = opts.loss === "least-squares" ? targetsOf(split) : null;
    let total = 0,
      correct = 0;
    for (let r0 = 0; r0 < split.rows; r0 += evalChunk) {
      const rows = Math.min(evalChunk, split.rows - r0);
      const f = evalOut.subarray(0, rows * c);
      const x = split.x.subarray(r0 * d, (r0 + rows) * d);
      if (predict) f.set(await predict(theta, x, rows));
      else modelForward(model, theta, x, rows, f);
      const l =
        opts.loss === "cross-entropy"
          ? crossEntropy(split.labels!.subarray(r0, r0 + rows), c, { scale: 1 })
          : leastSquares(targets!.subarray(r0 * c, (r0 + rows) * c));
      total += l.value(f);
      if (split.labels) correct += countCorrect(f, split.labels.subarray(r0, r0 + rows), rows, c);
    }
    return { loss: total / split.rows, accuracy: split.labels ? correct / split.rows : undefined };
  }

  /** The problem on one batch of rows: rows r of the training split, in batch order. */
  function view(k: number): NetworkProblem {
    let xb = ds.train.x,
      yb = ds.train.labels ?? new Int32Array(0),
      tb = allTargets;
    if (!full) {
      xb = new Float32Array(m * d);
      yb = new Int32Array(m);
      tb = new Float64Array(m * c);
      const idx = new Int32Array(m),
        perm = new Int32Array(n);
      batchIndices(n, m, opts.batchSeed, k, idx, perm);
      for (let i = 0; i < m; i++) {
        const r = idx[i];
        xb.set(ds.train.x.subarray(r * d, (r + 1) * d), i * d);
        if (ds.train.labels) yb[i] = ds.train.labels[r];
        tb.set(allTargets.subarray(r * c, (r + 1) * c), i * c);
      }
    }
    const loss = lossFor(opts.loss, ds, yb, tb, m, scale);
    const tb32 = Float32Array.from(tb);
    return {
      kind: ds.kind,
      model,
      batch: () => ({ x: xb, rows: m, targets: tb32 }),
      lossScale: scale,
      ...(scale === 1 ? { lossRows: m } : {}),
      batchAccuracy: (f) => (ds.kind === "classification" ? countCorrect(f, yb, m, c) / m : undefined),
      rowsLoss(r0, rows) {
        if (!(r0 >= 0 && rows >= 1 && r0 + rows <= m))
          throw new RangeError(`rows [${r0}, ${r0 + rows}) are not within the batch of ${m}`);
        return lossFor(opts.loss, ds, yb.subarray(r0, r0 + rows), tb.subarray(r0 * c, (r0 + rows) * c), rows, scale);
      },
      dimension: parameterCount,
      outputSize: m * c,
      loss,
      initial: () => (opts.theta0 ? Float64Array.from(opts.theta0) : initModel(model, opts.initSeed)),
      warmStart: opts.theta0 !== undefined,
      forward(theta, out) {
        modelForward(model, theta, xb, m, out);
      },
      at,
      evaluate,
    };
  }
  // the two latest batches' views: a trial's rungs (iteration k) and the next statistics (k + 1)
  const views = new Map<number, NetworkProblem>();
  function at(k: number): NetworkProblem {
    if (full) k = 0;
    let v = views.get(k);
    if (!v) {
      v = view(k);
      if (views.size >= 2) views.delete(views.keys().next().value!);
      views.set(k, v);
    }
    return v;
  }

  async function evaluate(theta: Float64Array, predict?: Predictor): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [name, split] of [
      ["train", ds.train],
      ["validation", ds.validation],
      ["test", ds.test],
    ] as const) {
      if (!split || split.rows === 0) continue;
      const r = await evaluateSplit(split, theta, predict);
      out[`${name}Loss`] = r.loss;
      if (r.accuracy !== undefined) out[`${name}Accuracy`] = r.accuracy;
    }
    return out;
  }
  // the problem itself is its first batch's view
  return at(0);
}
