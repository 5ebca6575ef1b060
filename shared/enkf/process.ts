// The ask/tell protocol every optimizer follows. A process never evaluates anything itself (as in
// EnsembleKalmanProcesses.jl): ask(state) says what to evaluate, whoever runs the process (the run
// loop, runLoop.ts) has an evaluator answer it, and tell(state, answer) folds the answer in. All
// three are pure: tell returns a new state and the history rows it finished, and never changes the
// state or answer it was given, so a state can be told twice, stored, or thrown away.

import type { StopSpec } from "../spec/job.ts";
import type { HistoryRow } from "./types.ts";
import { recordIteration, type RunProgress } from "./stopping.ts";

/** What every process state has: the estimate, the history and the stopping rule's standing. */
export interface ProcessState {
  /** the current estimate: the last accepted point (the ensemble mean for EKI) */
  readonly theta: Float64Array;
  readonly progress: RunProgress;
  /** forward evaluations of the whole batch so far, the start's included */
  readonly evaluations: number;
  /** the posterior: the Laplace posterior at θ once its rounds are in (laplacePosterior.ts), or
   *  the sampler's particles (eks.ts) */
  readonly posterior?: PosteriorEstimate;
}

/** Samples of the posterior in θ (count × n, sample-major). */
export interface SampleEstimate {
  samples: Float64Array;
  count: number;
}

export type PosteriorEstimate = LaplaceEstimate | SampleEstimate;

/** N(θ, covariance) in the transformed θ, or why it could not be formed; how H was estimated. */
export type LaplaceEstimate = ({ theta: Float64Array; covariance: Float64Array } | { unavailable: string }) & {
  ensembleSize: number;
  draws: number;
  sigma: number;
};

/** What tell returns: the next state and the iterations it finished (0, 1 or more rows). */
export interface Told<S> {
  state: S;
  records: HistoryRow[];
}

/**
 * An optimizer as three pure functions. A wrapper that keeps the wrapped process's state inside its
 * own (averaging.ts) hands it its own `progress`: the run loop writes the history's evaluations and
 * its stops into the progress of the state it holds.
 *
 * @example
 * ```ts
 * let state = process.init(theta0);
 * for (let ask = process.ask(state); ask; ask = process.ask(state)) {
 *   ({ state } = process.tell(state, await evaluate(ask), elapsed()));
 * }
 * ```
 */
export interface Process<S extends ProcessState, A, R> {
  readonly method: string;
  init(theta0: Float64Array): S;
  /** what to evaluate next; null once the run has ended (state.progress.done) */
  ask(state: S): A | null;
  /** folds the answer to ask(state) in; `elapsedSeconds` stamps the rows it finishes */
  tell(state: S, answer: R, elapsedSeconds: number): Told<S>;
}

/** Φ at the current estimate: the last iteration's, or the start's before any. */
export function currentObjective(state: Pick<ProcessState, "progress">): number {
  const { history, startObjective } = state.progress;
  return history.length ? history[history.length - 1].objective : startObjective;
}

/** A fresh run's progress. */
export const startProgress = (startObjective = NaN): RunProgress => ({
  history: [],
  rejections: 0,
  startObjective,
  done: null,
});

/** The state with one more iteration recorded (and the stopping rule applied). */
export function withRow<S extends ProcessState>(state: S, stop: StopSpec, row: HistoryRow): S {
  return { ...state, progress: recordIteration(state.progress, stop, row) };
}
