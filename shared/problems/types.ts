// What a problem gives the optimizers: a forward model F: Rⁿ → R^M, an output-space loss
// (holding the data y), a start point, and for built-ins the known minimiser.

import type { Bounds } from "../math/constrain.ts";
import type { OutputLoss } from "../losses/types.ts";

/** The model's outputs (rows × outputs) at θ for `rows` input rows. */
export type Predictor = (theta: Float64Array, x: Float32Array, rows: number) => Promise<ArrayLike<number>>;

export interface Problem {
  readonly kind: string;
  /** n, the number of parameters */
  readonly dimension: number;
  /** M, the length of F(θ) */
  readonly outputSize: number;
  readonly loss: OutputLoss;
  /**
   * A loss in sum form: it sums over this many rows of the batch, and Φ is that sum divided by
   * them (the reduction divides, as it does for the workflow's shard partials). Absent: the loss is Φ.
   */
  readonly lossRows?: number;
  /** a fresh copy of the start point θ₀ */
  initial(): Float64Array;
  /** out ← F(θ) (a problem with only a batched forward throws here: use forwardBatch) */
  forward(theta: Float64Array, out: Float64Array): void;
  /**
   * out ← F at `count` points at once (member-major: point j is points[j·n, (j+1)·n), its outputs
   * out[j·M, (j+1)·M)), asynchronously: forwards that run elsewhere or in batches (an ONNX graph).
   * Where present, the modified EnKF evaluates through it (kernels/batched.ts).
   */
  forwardBatch?(points: Float64Array, count: number, out: Float64Array): Promise<void>;
  /** out ← J(θ)ᵀ v, the exact vector–Jacobian product, where the problem has one (baselines, tests) */
  vjp?(theta: Float64Array, v: Float64Array, out: Float64Array): void;
  /** the known global minimiser θ*, for built-ins */
  readonly solution?: Float64Array;
  /** Φ(θ*), for built-ins */
  readonly optimum?: number;
  /**
   * Mini-batch problems: the problem on iteration k's batch, a view whose forward and loss never
   * change (the same object for the same k while it is recent). Absent: the data is the same at
   * every iteration, and the problem is its own view.
   */
  at?(k: number): Problem;
  /**
   * Metrics on the full data splits (e.g. train loss, train and test accuracy) at θ; `predict`, when
   * given, computes the model's outputs for a block of rows (a fast kernel's forward pass).
   */
  evaluate?(theta: Float64Array, predict?: Predictor): Promise<Record<string, number>>;
  /** the parameters θ stands for, by name and in their own units (inverse problems) */
  parameters?(theta: Float64Array): Record<string, number>;
  /** the Laplace posterior the problem asks for (inverse problems; the modified EnKF forms it):
   *  the draws' σ (absent: the last iteration's) */
  readonly laplace?: { sigma?: number };
  /** the prior's std in θ per parameter (inverse problems with a prior: the sampler's initial spread) */
  readonly priorStd?: Float64Array;
  /** the parameters' names and bounds, in θ's order (inverse problems: a posterior is read in their units) */
  readonly parameterNames?: readonly string[];
  readonly parameterBounds?: readonly Bounds[];
}

/** The problem on iteration k's data: its view of that batch, or itself. */
export const onIteration = <P extends Problem>(problem: P, k: number): P =>
  problem.at ? (problem.at(k) as P) : problem;
