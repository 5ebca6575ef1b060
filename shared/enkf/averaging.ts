// Iterate averaging as a wrapper of any process (process.ts): the wrapped process steps from its
// own θ_k as before, and the wrapper keeps an average of the iterates, which is the wrapper's θ,
// the one the run loop evaluates on the full splits, selects and exports. Two averages:
//   ema   θ̄_k = β θ̄_{k−1} + (1 − β) θ_k, θ̄_0 = θ_0 (an exponential moving average, weight β);
//   tail  θ̄_k = θ_k for k < start, then the mean of θ_start … θ_k (Polyak–Ruppert averaging).
// In the stochastic regime (mini-batches, a step that is sharp for its own batch) θ_k jitters
// around a noise floor; the average takes the noise out (Polyak & Juditsky 1992). Pure: the state
// told is never changed; the average is a new array each iteration.

import type { AveragingSpec } from "../spec/job.ts";
import type { Process, ProcessState, Told } from "./process.ts";

/** The wrapper's state: the average as θ, the wrapped process's state inside. */
export interface AveragedState<S extends ProcessState> extends ProcessState {
  readonly inner: S;
  /** iterates in the tail average so far (tail only) */
  readonly count: number;
}

/** The average after the wrapped process finished iteration k (its θ now θ_k). */
function update(spec: AveragingSpec, average: Float64Array, count: number, theta: Float64Array, k: number) {
  if (spec.type === "ema") {
    const b = spec.decay;
    return { theta: average.map((m, i) => b * m + (1 - b) * theta[i]), count };
  }
  if (k < spec.start) return { theta: Float64Array.from(theta), count: 0 };
  const n = count + 1;
  return { theta: average.map((m, i) => m + (theta[i] - m) / n), count: n };
}

/**
 * A process whose θ is the average of the wrapped process's iterates.
 *
 * @param p the process to wrap (the modified EnKF, with or without speculation)
 * @param spec the average: `{ type: "ema", decay }` or `{ type: "tail", start }`
 * @example
 * ```ts
 * const process = averaged(modifiedEnkf(spec, stop), { type: "ema", decay: 0.98 });
 * const result = await runLoop(process, kernelAnswers(problem, kernel, 0), inMemory(stop), theta0);
 * result.theta; // the averaged θ (or the best average by the validation split)
 * ```
 */
export function averaged<S extends ProcessState, A, R>(
  p: Process<S, A, R>,
  spec: AveragingSpec,
): Process<AveragedState<S>, A, R> {
  const wrap = (inner: S, theta: Float64Array, count: number): AveragedState<S> => ({
    inner,
    theta,
    count,
    progress: inner.progress,
    evaluations: inner.evaluations,
  });
  // the wrapped state with the wrapper's progress: the run loop writes its annotations (evaluations)
  // and its stops (early stopping) into the progress of the state it holds, the wrapper's
  const inside = (state: AveragedState<S>): S => ({ ...state.inner, progress: state.progress });
  return {
    method: p.method,
    init: (theta0) => wrap(p.init(theta0), Float64Array.from(theta0), 0),
    ask: (state) => p.ask(inside(state)),
    tell(state, answer, elapsed): Told<AveragedState<S>> {
      const { state: inner, records } = p.tell(inside(state), answer, elapsed);
      // one update per finished iteration, whoever batched them into this tell (the workflow's
      // speculation can finish two): the iterate after a record is the new θ once a step was accepted
      let next = { theta: state.theta, count: state.count };
      let accepted = false;
      const before = state.progress.history.length;
      records.forEach((row, j) => {
        accepted ||= row.accepted;
        const iterate = accepted ? inner.theta : state.inner.theta;
        next = update(spec, next.theta, next.count, iterate, before + j + 1);
      });
      return { state: wrap(inner, next.theta, next.count), records };
    },
  };
}
