// Gradient descent with the exact gradient and the modified EnKF's Armijo line search
// (lineSearch.ts), the baseline that shows what local information alone does on multimodal
// problems, as a pure ask/tell process: θ_{k+1} = θ_k − η ∇Φ(θ_k), η backtracked until
// Φ(θ_k − η∇Φ) ≤ Φ(θ_k) − c1·η‖∇Φ‖². The asks: Φ and ∇Φ at θ (at the start, on a new batch, after
// an accepted step), and Φ at one trial point at a time. Runs in process (needs problem.vjp).

import type { GradientDescentSpec, StopSpec } from "../spec/job.ts";
import { firstTrial, judgeTrial, lineSearchParams, type Trial } from "./lineSearch.ts";
import type { HistoryRow } from "./types.ts";
import { startProgress, withRow, type Process, type ProcessState } from "./process.ts";

/** Φ (and, with `gradient`, ∇Φ) at `point` on iteration `iteration`'s batch, with the ½α‖θ‖² term. */
export interface GradientAsk {
  iteration: number;
  point: Float64Array;
  gradient: boolean;
}

export interface GradientAnswer {
  phi: number;
  gradient?: Float64Array;
}

export interface GdState extends ProcessState {
  /** Φ and ∇Φ at θ on batch `batch` (grad null before the first answer) */
  phi: number;
  grad: Float64Array | null;
  batch: number;
  /** the iteration under way (0-based), its evaluations so far, and its trial */
  iteration: number;
  spent: number;
  trial: Trial | null;
  /** an accepted trial waiting for Φ and ∇Φ at its point, θ */
  accepted: Trial | null;
}

/**
 * `batched`: the problem's data changes with the iteration (mini-batches), so each iteration
 * starts with Φ and ∇Φ on its own batch.
 *
 * @example
 * ```ts
 * const gd = gradientDescent(spec, stop, false);
 * const ask = gd.ask(gd.init(theta0))!; // { gradient: true, point: θ₀, iteration: 0 }
 * ```
 */
export function gradientDescent(
  spec: GradientDescentSpec,
  stop: StopSpec,
  batched: boolean,
): Process<GdState, GradientAsk, GradientAnswer> {
  const ls = lineSearchParams(spec.lineSearch);
  const norm2 = (g: Float64Array) => g.reduce((s, v) => s + v * v, 0);
  const needsGradient = (s: GdState) =>
    !s.grad || s.accepted !== null || (!s.trial && batched && s.batch !== s.iteration);

  /** Iteration `s.iteration` ends: its row joins the history. */
  function finish(
    s: GdState,
    accepted: boolean,
    eta: number,
    backtracks: number,
    elapsed: number,
    records: HistoryRow[],
  ): GdState {
    const row = {
      iteration: s.iteration + 1,
      objective: s.phi,
      sigma: 0,
      gamma: 0,
      step: eta,
      accepted,
      backtracks,
      evaluations: s.spent,
      solver: "",
      seconds: elapsed,
    };
    records.push(row);
    return withRow({ ...s, iteration: s.iteration + 1, spent: 0, trial: null, accepted: null }, stop, row);
  }

  /** Starts the iterations that need no evaluation to start: their first trial, or a rejection
   *  without one (no descent direction); stops at the next question. */
  function advance(s: GdState, elapsed: number, records: HistoryRow[] = []) {
    while (!s.progress.done && !s.trial && !needsGradient(s)) {
      const trial = firstTrial(ls, s.phi, -norm2(s.grad!), spec.stepSize);
      s = trial ? { ...s, trial } : finish(s, false, 0, 0, elapsed, records);
    }
    return { state: s, records };
  }

  return {
    method: "gradient-descent",
    init: (theta0) => ({
      theta: Float64Array.from(theta0),
      progress: startProgress(),
      evaluations: 0,
      phi: NaN,
      grad: null,
      batch: 0,
      iteration: 0,
      spent: 0,
      trial: null,
      accepted: null,
    }),
    ask(s) {
      if (s.progress.done) return null;
      if (needsGradient(s)) return { iteration: s.iteration, point: s.theta, gradient: true };
      const eta = s.trial!.eta;
      return {
        iteration: s.iteration,
        point: Float64Array.from(s.theta, (v, i) => v - eta * s.grad![i]),
        gradient: false,
      };
    },
    tell(s, answer, elapsed) {
      const evaluated = { ...s, evaluations: s.evaluations + 1 };
      if (needsGradient(s)) {
        if (!answer.gradient)
          throw new Error(`the answer for iteration ${s.iteration + 1} lacks the gradient it asked for`);
        const fresh = { ...evaluated, phi: answer.phi, grad: answer.gradient, batch: s.iteration };
        // the start: Φ and ∇Φ at θ₀ on the first batch
        if (!s.grad) return advance({ ...fresh, progress: startProgress(answer.phi) }, elapsed);
        const records: HistoryRow[] = [];
        const spent = { ...fresh, spent: s.spent + 1 };
        // after an accepted step the iteration is over; on a new batch it begins
        const next = s.accepted ? finish(spent, true, s.accepted.eta, s.accepted.backtracks, elapsed, records) : spent;
        return advance(next, elapsed, records);
      }
      const t = s.trial!;
      const spent = { ...evaluated, spent: s.spent + 1 };
      const verdict = judgeTrial(ls, t, answer.phi);
      if (verdict.kind === "backtrack") return { state: { ...spent, trial: verdict.next }, records: [] };
      if (verdict.kind === "reject") {
        const records: HistoryRow[] = [];
        return advance(finish(spent, false, 0, t.backtracks, elapsed, records), elapsed, records);
      }
      // accepted: Φ and ∇Φ at the new θ complete the iteration
      const point = Float64Array.from(s.theta, (v, i) => v - t.eta * s.grad![i]);
      return { state: { ...spent, theta: point, trial: null, accepted: t }, records: [] };
    },
  };
}
