// The modified EnKF as a sequence of rounds, for a workflow whose workers evaluate shards in
// parallel and whose reducer decides (the Step Functions loop). Pure: state in, state and the next
// round's plan out.
//
// The line search needs no extra round. A round evaluates, around its point P:
//   (B) the ensemble statistics of iteration k+1 (θ = P, Ω_{k+1}, batch k+1), and
//   (A) when a trial of iteration k is pending, Φ(P) on batch k: the line-search value of P.
// P is the pending trial θ_k + η·d_k. If (A) passes the Armijo test, P becomes θ_{k+1} and (B)
// is already its statistics: the reducer solves at once and proposes the next trial. If (A)
// fails, the reducer shrinks η and the next round evaluates the new trial (and, speculatively,
// statistics around it); after the last backtrack the step is rejected and the next round
// evaluates statistics around θ_k for iteration k+1. σ for the speculative (B) is the one the
// schedule gives if the trial is accepted, and that is the only case in which (B) is used. So
// the rounds take exactly the steps of the in-process optimizer (modifiedEnkf.ts): the same θ,
// Ω, batches and accept/reject decisions, up to the summation order over shards.

import { perturbation, type EnsembleDraw } from "../enkf/ensembleStatistics.ts";
import { lineSearchParams } from "../enkf/lineSearch.ts";
import { judgeEnsemble, retrySeed, retrySigma, solveValid } from "../enkf/memberFailures.ts";
import { sigmaSchedule } from "../enkf/schedules.ts";
import { checkStop, type StopDecision } from "../enkf/stopping.ts";
import type { HistoryRow, StepRecord } from "../enkf/types.ts";
import type { ModifiedEnkfSpec, StopSpec } from "../spec/job.ts";
import type { ReducedStatistics } from "./shardPartial.ts";

export interface RoundPlan {
  /** every member is evaluated around this point */
  point: Float64Array;
  /** the ensemble's iteration (its Ω and batch) and the schedule's σ */
  iteration: number;
  sigma: number;
  /** a redraw after too many failed members: retry `attempt` (σ halved each time, fresh Ω) */
  attempt?: number;
  /** when set, also Φ(point) on this iteration's batch: the pending trial's line-search value */
  trialIteration?: number;
}

/** The perturbation draw a round's plan stands for: Ω of plan.iteration (and retry) at its σ. */
export function planDraw(spec: ModifiedEnkfSpec, plan: Pick<RoundPlan, "iteration" | "sigma" | "attempt">): EnsembleDraw {
  const attempt = plan.attempt ?? 0;
  return { sigma: retrySigma(plan.sigma, attempt), kind: spec.perturbation, seed: retrySeed(spec.seed, attempt), iteration: plan.iteration };
}

export interface RoundResults {
  /** the reduced statistics around plan.point for plan.iteration */
  stats: ReducedStatistics;
  /** Φ(plan.point) on the batch of plan.trialIteration (with the ½α‖θ‖² term) */
  trialPhi?: number;
}

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
  direction: Float64Array;
  batchAccuracy: number;
}

export interface RoundState {
  /** the last accepted point */
  theta: Float64Array;
  pending: PendingTrial | null;
  history: HistoryRow[];
  rejections: number;
  startObjective: number;
  /** forward evaluations of the full batch so far */
  evaluations: number;
  /** why the run ended, once it has */
  done: StopDecision | null;
  /** seconds spent per phase over all workers and the reducer (for the report; not used to decide) */
  timings?: Record<string, number>;
}

export interface Rounds {
  start(theta0: Float64Array): { state: RoundState; plan: RoundPlan };
  /** folds a round's results into the state; plan is null once the run has ended */
  reduce(state: RoundState, plan: RoundPlan, results: RoundResults, elapsedSeconds: number): { state: RoundState; plan: RoundPlan | null };
}

export function rounds(spec: ModifiedEnkfSpec, stop: StopSpec, classification: boolean): Rounds {
  const k = spec.ensembleSize;
  const schedule = sigmaSchedule(spec.sigma);
  const ls = lineSearchParams(spec.lineSearch);
  const step = (theta: Float64Array, eta: number, d: Float64Array) => Float64Array.from(theta, (v, i) => v + eta * d[i]);

  /** d = Ω_k s with Ω_k regenerated row by row from the seed, in combineRows' order. */
  function direction(draw: EnsembleDraw, s: Float64Array, n: number): Float64Array {
    const d = new Float64Array(n), w = new Float64Array(n);
    for (let j = 0; j < k; j++) {
      perturbation(draw, j, w);
      const sj = s[j];
      for (let i = 0; i < n; i++) d[i] += sj * w[i];
    }
    return d;
  }

  /** Records iteration `iteration` and applies the stopping rule. */
  function finish(state: RoundState, rec: StepRecord, iteration: number, elapsed: number): void {
    state.rejections = rec.accepted ? 0 : state.rejections + 1;
    state.history.push({ iteration: iteration + 1, ...rec, seconds: elapsed });
    state.done = checkStop(stop, state.history, state.rejections, elapsed, state.startObjective);
  }

  /** Statistics of iteration `plan.iteration` at θ (the accepted point) are in: solve and propose
   *  a trial, or redraw the ensemble when too many members failed (memberFailures.ts). */
  function begin(state: RoundState, plan: Pick<RoundPlan, "iteration" | "sigma" | "attempt">, stats: ReducedStatistics, elapsed: number): { state: RoundState; plan: RoundPlan | null } {
    const { iteration, sigma } = plan;
    const attempt = plan.attempt ?? 0;
    const draw = planDraw(spec, plan);
    state.evaluations += k + 1;
    const evaluations = (k + 1) * (attempt + 1);
    const verdict = judgeEnsemble(stats.phi, stats.gram, stats.rhs, k, spec, attempt);
    if (verdict.kind === "retry") return { state, plan: { point: state.theta, iteration, sigma, attempt: attempt + 1 } };
    const accuracy = classification ? { batchAccuracy: stats.accuracy } : {};
    const rejected = (rec: StepRecord) => {
      finish(state, rec, iteration, elapsed);
      if (state.done) return { state, plan: null };
      return { state, plan: { point: state.theta, iteration: iteration + 1, sigma: schedule.next(sigma, iteration + 1, { accepted: false, backtracks: 0 }) } };
    };
    if (verdict.kind !== "ok") {
      // the mean's Φ is not finite, or the ensemble kept failing: rejected without a trial
      const last = state.history.length ? state.history[state.history.length - 1].objective : state.startObjective;
      return rejected({ objective: Number.isFinite(stats.phi) ? stats.phi : last, sigma: draw.sigma, gamma: 0, step: 0, accepted: false, backtracks: 0, evaluations, solver: "", ...accuracy, failedMembers: verdict.kind === "give-up" ? verdict.failed : 0, retries: attempt });
    }
    const failedMembers = k - verdict.valid;
    const { s, gamma, slope, solver } = solveValid(stats.gram, stats.rhs, k, verdict.mask, verdict.valid, spec);
    if (ls !== null && !(slope < 0)) {
      // not a descent direction: rejected without a trial
      return rejected({ objective: stats.phi, sigma: draw.sigma, gamma, step: 0, accepted: false, backtracks: 0, evaluations, solver, ...accuracy, failedMembers, retries: attempt });
    }
    const d = direction(draw, s, state.theta.length);
    state.pending = { iteration, sigma, drawSigma: draw.sigma, attempt, failedMembers, gamma, solver, phi0: stats.phi, slope, eta: spec.stepSize, backtracks: 0, direction: d, batchAccuracy: stats.accuracy };
    return { state, plan: trialPlan(state.theta, state.pending) };
  }

  function trialPlan(theta: Float64Array, t: PendingTrial): RoundPlan {
    return { point: step(theta, t.eta, t.direction), iteration: t.iteration + 1, sigma: schedule.next(t.sigma, t.iteration + 1, { accepted: true, backtracks: t.backtracks }), trialIteration: t.iteration };
  }

  return {
    start(theta0) {
      const state: RoundState = { theta: Float64Array.from(theta0), pending: null, history: [], rejections: 0, startObjective: NaN, evaluations: 0, done: null };
      return { state, plan: { point: state.theta, iteration: 0, sigma: schedule.initial } };
    },
    reduce(prev, plan, results, elapsed) {
      const state: RoundState = { ...prev, history: [...prev.history] };
      const t = state.pending;
      if (!t) {
        if (plan.iteration === 0) state.startObjective = results.stats.phi;
        return begin(state, plan, results.stats, elapsed);
      }
      if (results.trialPhi === undefined) throw new Error(`round for iteration ${plan.iteration} came back without the line-search value of its trial`);
      const phi = results.trialPhi;
      const trials = t.backtracks + 1;
      const ok = Number.isFinite(phi) && (ls === null || phi <= t.phi0 + ls.c1 * t.eta * t.slope);
      const accuracy = classification ? { batchAccuracy: t.batchAccuracy } : {};
      const members = { failedMembers: t.failedMembers, retries: t.attempt };
      const evaluations = (k + 1) * (t.attempt + 1) + trials;
      state.evaluations += 1;
      if (ok) {
        state.theta = plan.point;
        state.pending = null;
        finish(state, { objective: phi, sigma: t.drawSigma, gamma: t.gamma, step: t.eta, accepted: true, backtracks: t.backtracks, evaluations, solver: t.solver, ...accuracy, ...members }, t.iteration, elapsed);
        if (state.done) return { state, plan: null };
        // the round's statistics are those of iteration t.iteration + 1 at the new θ
        return begin(state, plan, results.stats, elapsed);
      }
      if (ls !== null && t.backtracks < ls.maxBacktracks) {
        state.pending = { ...t, eta: t.eta * ls.shrink, backtracks: t.backtracks + 1 };
        return { state, plan: trialPlan(state.theta, state.pending) };
      }
      state.pending = null;
      finish(state, { objective: t.phi0, sigma: t.drawSigma, gamma: t.gamma, step: 0, accepted: false, backtracks: t.backtracks, evaluations, solver: t.solver, ...accuracy, ...members }, t.iteration, elapsed);
      if (state.done) return { state, plan: null };
      return { state, plan: { point: state.theta, iteration: t.iteration + 1, sigma: schedule.next(t.sigma, t.iteration + 1, { accepted: false, backtracks: t.backtracks }) } };
    },
  };
}
