// The modified EnKF's side of the ask/tell protocol (modifiedEnkf.ts): what it asks (the ensemble
// statistics of an iteration at θ, Φ at the rungs of a line search), what it is answered, and its
// state between asks. Shapes: θ, d ∈ ℝⁿ; QᵀWQ is K×K row-major; Qᵀg and s ∈ ℝᴷ.

import type { EnsembleDraw } from "../math/perturbation.ts";
import type { Process, ProcessState } from "./process.ts";

/** The statistics an iteration needs: its Ω (iteration, the schedule's σ, the redraw attempt). */
export interface EnsembleRequest {
  iteration: number;
  sigma: number;
  /** a redraw after too many failed members: retry `attempt` (σ halved each time, fresh Ω) */
  attempt: number;
}

/** Φ at rungs base + η d of the pending trial's line search, on `iteration`'s batch. */
export interface TrialLadder {
  iteration: number;
  /** θ, the last accepted point */
  base: Float64Array;
  /** d = Ω s */
  direction: Float64Array;
  /** the step lengths to evaluate, in the order the search tries them */
  etas: number[];
  /** the rungs the search has left (the first is etas[0]), and the σ of the next iteration's draw
   *  if it accepts at each */
  ladder: { etas: number[]; sigmas: number[] };
  /** with statistics (a wrapper's ask): the rung whose point `point` is */
  statisticsRung?: number;
}

/** What to evaluate next. */
export interface Ask extends EnsembleRequest {
  /** where the statistics are evaluated (with only a trial: its first rung) */
  point: Float64Array;
  /** Ω of the statistics */
  draw: EnsembleDraw;
  /** the statistics at `point` for `iteration` (false: only the trial's Φ) */
  statistics: boolean;
  trial?: TrialLadder;
}

/** Statistics at the point, as means over the batch (the loss's and the ½α‖θ‖² term's). */
export interface Statistics {
  /** Φ(point) */
  phi: number;
  /** QᵀWQ (+ αΩᵀΩ), K×K row-major */
  gram: Float64Array;
  /** Qᵀg (+ αΩᵀθ) */
  rhs: Float64Array;
  /** fraction of the batch classified right (classification only) */
  accuracy?: number;
  /** out ← Ω s for the ask's Ω, as the forward evaluated its members */
  direction(s: Float64Array, out: Float64Array): void;
}

export interface Answer {
  stats?: Statistics;
  /** Φ at each rung of the ask's trial, in its order, with the ½α‖θ‖² term */
  trialPhis?: number[];
}

/** A solved step waiting for its line search. */
export interface PendingTrial {
  iteration: number;
  /** the schedule's σ, and the σ and retry of the ensemble used */
  sigma: number;
  drawSigma: number;
  attempt: number;
  failedMembers: number;
  gamma: number;
  solver: string;
  phi0: number;
  slope: number;
  eta: number;
  backtracks: number;
  /** the step's direction: d = Ω s, or with momentum d + μ m */
  direction: Float64Array;
  /** with momentum: m = μ m_prev + d, the state's once the step is accepted */
  velocity?: Float64Array;
  batchAccuracy?: number;
}

export interface EnkfState extends ProcessState {
  pending: PendingTrial | null;
  /** with momentum: m after the last accepted step (absent at the start and after a rejection) */
  velocity?: Float64Array;
  /** the statistics the run needs when no trial is pending */
  next: EnsembleRequest;
}

export interface ModifiedEnkf extends Process<EnkfState, Ask, Answer> {
  /** Ω of a request (the failure policy's: σ halved per retry, a fresh stream per retry) */
  draw(request: EnsembleRequest): EnsembleDraw;
}
