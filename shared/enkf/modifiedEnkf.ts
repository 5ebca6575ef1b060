// The modified EnKF (Haber, Lucka, Ruthotto 2018, "Never look back"), the project's one
// implementation, as a pure ask/tell state: the state says what to evaluate next, a driver
// evaluates it and tells the answers back. Iteration k, the paper's modified EnKF update written out:
//   1. a fresh Ω_k = σ_k Z_k (n×K) from the counter-based RNG; old ensembles are never reused;
//   2. Q_j = F(θ_k + ω_j) − F(θ_k)  (forward passes only);
//   3. (QᵀWQ + γI) s = −Qᵀg  — the Gauss–Newton step restricted to span(Ω_k), with W = ∇²_F L
//      and g = ∇_F L in output space (the ½α‖θ‖² term adds αΩᵀΩ and αΩᵀθ);
//   4. θ_{k+1} = θ_k + η Ω_k s, η from Armijo backtracking on Φ with slope bᵀs (lineSearch.ts);
//   then σ and γ follow their schedules (schedules.ts); a rejected step keeps θ_k. Failed members,
//   redraws and a non-finite Φ follow the failure policy (failurePolicy.ts).
//
// An ask names a point P and what to evaluate there: the ensemble statistics of iteration i
// (Ω_i, batch i) and/or Φ(P) on the batch of the pending trial's iteration. Two drivers answer:
//   - in process (optimize.ts), one kernel answers, one question at a time (speculate: false);
//   - the workflow's reducer (shared/workflow) answers with the reduced shard partials, and each
//     round carries both questions (speculate: true): the statistics at a trial point are those
//     of the next iteration if the trial is accepted, the only case in which they are used.
// Both take exactly the same steps: the same θ, Ω, batches and accept/reject decisions. States
// are used linearly: tell() returns the next state, which may share the history array of the one
// it was given; never tell the same state twice.

import type { EnsembleDraw } from "../math/perturbation.ts";
import type { ModifiedEnkfSpec, StopSpec } from "../spec/job.ts";
import { failurePolicy } from "./failurePolicy.ts";
import { firstTrial, judgeTrial, lineSearchParams } from "./lineSearch.ts";
import { sigmaSchedule } from "./schedules.ts";
import { recordIteration, type RunProgress } from "./stopping.ts";
import type { StepRecord } from "./types.ts";

/** What to evaluate next, around one point. */
export interface Ask {
  point: Float64Array;
  /** the ensemble's iteration (its Ω and batch) and the schedule's σ */
  iteration: number;
  sigma: number;
  /** a redraw after too many failed members: retry `attempt` (σ halved each time, fresh Ω) */
  attempt?: number;
  /** the ensemble statistics at `point` for `iteration` (false: only the trial's Φ) */
  statistics: boolean;
  /** when set, Φ(point) on this iteration's batch: the pending trial's line-search value */
  trialIteration?: number;
}

/** Statistics at the point, as means over the batch (the loss's and the ½α‖θ‖² term's). */
export interface Statistics {
  /** Φ(point) */
  phi: number;
  /** QᵀWQ (+ αΩᵀΩ), K×K row-major */
  gram: Float64Array;
  /** Qᵀg (+ αΩᵀθ) */
  rhs: Float64Array;
  /** fraction of the batch classified right (classification) */
  accuracy?: number;
}

export interface Answer {
  stats?: Statistics;
  /** Φ(point) on the trial's batch, with the ½α‖θ‖² term */
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
  /** d = Ω s */
  direction: Float64Array;
  batchAccuracy: number;
}

export interface EnkfState extends RunProgress {
  /** the last accepted point */
  theta: Float64Array;
  pending: PendingTrial | null;
  /** forward evaluations of the full batch used so far */
  evaluations: number;
  /** seconds spent per phase over all workers and the reducer (the workflow's report; never used to decide) */
  timings?: Record<string, number>;
}

/** Φ at the current estimate: the last iteration's, or the start's before any. */
export function currentObjective(state: Pick<EnkfState, "history" | "startObjective">): number {
  return state.history.length ? state.history[state.history.length - 1].objective : state.startObjective;
}

export interface ModifiedEnkfOptions {
  /** a classification network: history rows carry the batch accuracy */
  classification: boolean;
  /** ask for the next iteration's statistics together with each trial (the workflow's rounds) */
  speculate: boolean;
  /** out ← Ω s for the ensemble `draw` (a kernel's stored Ω, or Ω regenerated from the seed) */
  direction(draw: EnsembleDraw, s: Float64Array, out: Float64Array): void;
}

export interface ModifiedEnkf {
  start(theta0: Float64Array): { state: EnkfState; ask: Ask };
  /** folds the answers to `ask` into the state; ask is null once the run has ended (state.done) */
  tell(state: EnkfState, ask: Ask, answer: Answer, elapsedSeconds: number): { state: EnkfState; ask: Ask | null };
  /** the perturbation draw an ask's statistics use */
  draw(ask: Pick<Ask, "iteration" | "sigma" | "attempt">): EnsembleDraw;
}

export function modifiedEnkf(spec: ModifiedEnkfSpec, stop: StopSpec, opts: ModifiedEnkfOptions): ModifiedEnkf {
  const k = spec.ensembleSize;
  const schedule = sigmaSchedule(spec.sigma);
  const ls = lineSearchParams(spec.lineSearch);
  const policy = failurePolicy(spec);
  const draw = (a: Pick<Ask, "iteration" | "sigma" | "attempt">) => policy.draw(a.sigma, a.iteration, a.attempt ?? 0);

  type Next = { state: EnkfState; ask: Ask | null };
  const statisticsAsk = (point: Float64Array, iteration: number, sigma: number): Ask => ({ point, iteration, sigma, statistics: true });

  /** Records iteration `iteration`; when the run goes on, `next` says what comes after. */
  function finish(state: EnkfState, rec: StepRecord, iteration: number, elapsed: number, next: () => Next): Next {
    recordIteration(state, stop, { iteration: iteration + 1, ...rec, seconds: elapsed });
    return state.done ? { state, ask: null } : next();
  }

  /** The trial point of the pending step; with speculation, also the next iteration's statistics there. */
  function trialAsk(state: EnkfState): Ask {
    const t = state.pending!;
    const point = Float64Array.from(state.theta, (v, i) => v + t.eta * t.direction[i]);
    const sigma = schedule.next(t.sigma, t.iteration + 1, { accepted: true, backtracks: t.backtracks });
    return { point, iteration: t.iteration + 1, sigma, statistics: opts.speculate, trialIteration: t.iteration };
  }

  /** The statistics of `ask.iteration` at θ (the accepted point) are in: solve and propose a
   *  trial, redraw the ensemble, or reject the iteration (failurePolicy.ts). */
  function begin(state: EnkfState, ask: Ask, stats: Statistics, elapsed: number): Next {
    const { iteration, sigma } = ask;
    const attempt = ask.attempt ?? 0;
    const ensemble = draw(ask);
    state.evaluations += k + 1;
    const evaluations = (k + 1) * (attempt + 1);
    const verdict = policy.judge(stats, attempt);
    if (verdict.kind === "retry") return { state, ask: { point: state.theta, iteration, sigma, attempt: attempt + 1, statistics: true } };
    const accuracy = opts.classification ? { batchAccuracy: stats.accuracy ?? 0 } : {};
    const rejected = (rec: StepRecord) => finish(state, rec, iteration, elapsed, () => ({
      state, ask: statisticsAsk(state.theta, iteration + 1, schedule.next(sigma, iteration + 1, { accepted: false, backtracks: 0 })),
    }));
    if (verdict.kind !== "ok") {
      // the mean's Φ is not finite, or the ensemble kept failing: rejected without a trial
      const last = state.history.length ? state.history[state.history.length - 1].objective : state.startObjective;
      return rejected({ objective: Number.isFinite(stats.phi) ? stats.phi : last, sigma: ensemble.sigma, gamma: 0, step: 0, accepted: false, backtracks: 0, evaluations, solver: "", ...accuracy, failedMembers: verdict.kind === "give-up" ? verdict.failed : 0, retries: attempt });
    }
    const failedMembers = k - verdict.valid;
    const { s, gamma, slope, solver } = policy.solve(stats, verdict);
    const trial = firstTrial(ls, stats.phi, slope, spec.stepSize);
    if (!trial) {
      // not a descent direction: rejected without a trial
      return rejected({ objective: stats.phi, sigma: ensemble.sigma, gamma, step: 0, accepted: false, backtracks: 0, evaluations, solver, ...accuracy, failedMembers, retries: attempt });
    }
    const direction = new Float64Array(state.theta.length);
    opts.direction(ensemble, s, direction);
    state.pending = { iteration, sigma, drawSigma: ensemble.sigma, attempt, failedMembers, gamma, solver, ...trial, direction, batchAccuracy: stats.accuracy ?? 0 };
    return { state, ask: trialAsk(state) };
  }

  return {
    draw,
    start(theta0) {
      const state: EnkfState = { theta: Float64Array.from(theta0), pending: null, history: [], rejections: 0, startObjective: NaN, evaluations: 0, done: null };
      return { state, ask: statisticsAsk(state.theta, 0, schedule.initial) };
    },
    tell(prev, ask, answer, elapsed) {
      const state: EnkfState = { ...prev };
      const t = state.pending;
      if (!t) {
        if (!answer.stats) throw new Error(`the answer for iteration ${ask.iteration} lacks the ensemble statistics it asked for`);
        if (ask.iteration === 0 && state.history.length === 0) {
          state.startObjective = answer.stats.phi;
          if (!Number.isFinite(answer.stats.phi)) {
            state.done = { status: "failed", message: `the objective at the start point is not finite (${answer.stats.phi})` };
            return { state, ask: null };
          }
        }
        return begin(state, ask, answer.stats, elapsed);
      }
      if (answer.trialPhi === undefined) throw new Error(`the answer for iteration ${ask.iteration} lacks the line-search value of its trial`);
      state.evaluations += 1;
      const verdict = judgeTrial(ls, t, answer.trialPhi);
      const accuracy = opts.classification ? { batchAccuracy: t.batchAccuracy } : {};
      const members = { failedMembers: t.failedMembers, retries: t.attempt };
      const evaluations = (k + 1) * (t.attempt + 1) + t.backtracks + 1;
      if (verdict.kind === "accept") {
        state.theta = ask.point;
        state.pending = null;
        const rec: StepRecord = { objective: answer.trialPhi, sigma: t.drawSigma, gamma: t.gamma, step: t.eta, accepted: true, backtracks: t.backtracks, evaluations, solver: t.solver, ...accuracy, ...members };
        return finish(state, rec, t.iteration, elapsed, () => {
          // speculation: the answer's statistics are those of the next iteration at the new θ
          if (!ask.statistics) return { state, ask: statisticsAsk(state.theta, ask.iteration, ask.sigma) };
          if (!answer.stats) throw new Error(`the answer for iteration ${ask.iteration} lacks the ensemble statistics it asked for`);
          return begin(state, ask, answer.stats, elapsed);
        });
      }
      if (verdict.kind === "backtrack") {
        state.pending = { ...t, eta: verdict.next.eta, backtracks: verdict.next.backtracks };
        return { state, ask: trialAsk(state) };
      }
      state.pending = null;
      const rec: StepRecord = { objective: t.phi0, sigma: t.drawSigma, gamma: t.gamma, step: 0, accepted: false, backtracks: t.backtracks, evaluations, solver: t.solver, ...accuracy, ...members };
      return finish(state, rec, t.iteration, elapsed, () => ({
        state, ask: statisticsAsk(state.theta, t.iteration + 1, schedule.next(t.sigma, t.iteration + 1, { accepted: false, backtracks: t.backtracks })),
      }));
    },
  };
}
