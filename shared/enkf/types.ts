// Records shared by the optimizers, the driver and the writers.

import type { PosteriorSummary, PosteriorUnavailable, SampleSummary } from "./posteriorSummary.ts";

export type RunStatus =
  "converged" | "max_iterations" | "stagnated" | "time_limit" | "early_stopped" | "failed" | "cancelled";

/** What one optimizer iteration reports. */
export interface StepRecord {
  objective: number;
  sigma: number;
  gamma: number;
  /** accepted step length η (0 when rejected) */
  step: number;
  accepted: boolean;
  backtracks: number;
  /** forward evaluations spent in this iteration */
  evaluations: number;
  /** how the K×K system was solved ("" where there is none) */
  solver: string;
  /** accuracy of the iteration's start point on its batch (classification networks) */
  batchAccuracy?: number;
  /** ensemble members dropped because their forward came back NaN or ±Inf (modified EnKF) */
  failedMembers?: number;
  /** ensembles redrawn with σ halved before this one was used (modified EnKF) */
  retries?: number;
}

/** One row of the history: the step record plus bookkeeping. */
export interface HistoryRow extends StepRecord {
  iteration: number;
  /** cumulative wall-clock seconds */
  seconds: number;
  /** ‖θ−θ*‖/‖θ₀−θ*‖ when the minimiser is known */
  distance?: number;
  /** full-split metrics (train loss, train/test accuracy, …) every stop.evaluateEvery iterations */
  evaluation?: Record<string, number>;
}

export interface Optimizer {
  readonly method: string;
  /** current estimate (the ensemble mean for EKI) */
  readonly theta: Float64Array;
  /** Φ at the current estimate */
  readonly objective: number;
  /** forward evaluations so far, including the start */
  readonly evaluations: number;
  /** performs iteration k (0-based) */
  step(k: number): Promise<StepRecord>;
}

export interface RunResult {
  status: RunStatus;
  message: string;
  iterations: number;
  objective: number;
  evaluations: number;
  seconds: number;
  /** of `seconds`, those spent evaluating θ on the full splits (stop.evaluateEvery, and the end) */
  evaluationSeconds?: number;
  /** the result: the best θ by the validation metric where there is one, else the last θ */
  theta: Float64Array;
  history: HistoryRow[];
  /** metrics of `theta` on the full splits */
  metrics: Record<string, number>;
  /** the best evaluation (iteration and metrics), when a validation split chose one */
  best?: { iteration: number; metrics: Record<string, number> };
  /** the last θ and its metrics, when it is not `theta` */
  last?: { theta: Float64Array; metrics: Record<string, number> };
  /** an inverse problem's parameters at `theta`, by name, in their own units */
  parameters?: Record<string, number>;
  /** an inverse problem's posterior around `theta` (the Laplace posterior), in the parameters' units */
  posterior?: Posterior;
  /** a sampler's particles in the parameters' units (count × n, names in θ's order): samples.npy */
  samples?: { data: Float64Array; count: number; names: string[] };
}

/** What result.json's `posterior` holds. */
export type Posterior = PosteriorSummary | SampleSummary | PosteriorUnavailable;
