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
// An ask names what to evaluate: the ensemble statistics of iteration i (Ω_i, batch i) at a point,
// and/or Φ on the pending trial's batch at the rungs θ + η_j d of its backtracking ladder (the
// trial's ladder: base θ, direction d and the step lengths η_j). Two drivers answer:
//   - in process (optimize.ts), one kernel answers, one question at a time (speculate: false):
//     a ladder of one rung per ask, so no Φ is evaluated that the search does not need;
//   - the workflow's reducer (shared/workflow) answers with the reduced shard partials, one round
//     per ask (speculate: true): a round carries the whole remaining ladder (single-member
//     forwards, cheap next to the K+1 of the statistics), and the next iteration's statistics at
//     one rung, the one the previous accepted step took (the speculated rung). When the search
//     accepts that rung, the next iteration starts from the same round; otherwise the next round
//     evaluates the statistics at the accepted point. So an iteration costs one round, or two.
// Both take exactly the same steps: the same θ, Ω, batches and accept/reject decisions, because
// the rungs are judged in order by the same test (judgeTrial) and every trial point comes from
// trialPoint() (math/vector.ts). `evaluations` counts the forwards the search needed, not the rungs a round
// evaluated beyond the accepted one. States are used linearly: tell() returns the next state,
// which may share the history array of the one it was given; never tell the same state twice.

import type { EnsembleDraw, FactoredBlock } from "../math/perturbation.ts";
import { trialPoint } from "../math/vector.ts";
import type { ModifiedEnkfSpec, StopSpec } from "../spec/job.ts";
import { failurePolicy } from "./failurePolicy.ts";
import { firstTrial, judgeTrial, lineSearchParams, remainingLadder, type Trial } from "./lineSearch.ts";
import { sigmaSchedule } from "./schedules.ts";
import { recordIteration, type RunProgress } from "./stopping.ts";
import type { StepRecord } from "./types.ts";
import type { SelectionState } from "./selection.ts";

/** The pending trial's rungs to evaluate: Φ(base + η d) for each η of `etas`, on `iteration`'s batch. */
export interface TrialLadder {
  /** the trial's iteration (its batch) */
  iteration: number;
  /** θ, the last accepted point */
  base: Float64Array;
  /** d = Ω s */
  direction: Float64Array;
  /** step lengths, in the order the search tries them */
  etas: number[];
  /** with statistics: the rung whose point `point` is */
  statisticsRung?: number;
}

/** What to evaluate next. */
export interface Ask {
  /** where the statistics are evaluated (with only a trial: its first rung) */
  point: Float64Array;
  /** the ensemble's iteration (its Ω and batch) and the schedule's σ */
  iteration: number;
  sigma: number;
  /** a redraw after too many failed members: retry `attempt` (σ halved each time, fresh Ω) */
  attempt?: number;
  /** the ensemble statistics at `point` for `iteration` (false: only the trial's Φ) */
  statistics: boolean;
  /** when set, Φ at these rungs of the pending trial's line search */
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
  /** fraction of the batch classified right (classification) */
  accuracy?: number;
}

export interface Answer {
  stats?: Statistics;
  /** Φ at each rung of the ask's ladder, in its order, on the trial's batch, with the ½α‖θ‖² term */
  trialPhis?: number[];
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
  /** the workflow's model selection on the validation split (selection.ts; in process, optimize.ts keeps it) */
  selection?: SelectionState;
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
  /** the model's dense weight matrices, which low-rank perturbations factor (none: full draws only) */
  matrices?: readonly FactoredBlock[];
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
  const policy = failurePolicy(spec, opts.matrices);
  const draw = (a: Pick<Ask, "iteration" | "sigma" | "attempt">) => policy.draw(a.sigma, a.iteration, a.attempt ?? 0);

  type Next = { state: EnkfState; ask: Ask | null };
  const statisticsAsk = (point: Float64Array, iteration: number, sigma: number): Ask => ({ point, iteration, sigma, statistics: true });

  /** Records iteration `iteration`; when the run goes on, `next` says what comes after. */
  function finish(state: EnkfState, rec: StepRecord, iteration: number, elapsed: number, next: () => Next): Next {
    recordIteration(state, stop, { iteration: iteration + 1, ...rec, seconds: elapsed });
    return state.done ? { state, ask: null } : next();
  }

  /** Where the previous accepted step was taken on its ladder (0 before any). */
  function lastAcceptedRung(state: EnkfState): number {
    for (let i = state.history.length - 1; i >= 0; i--) if (state.history[i].accepted) return state.history[i].backtracks;
    return 0;
  }

  /** σ of the next iteration when the pending trial is accepted after `backtracks` backtracks. */
  const acceptedSigma = (t: PendingTrial, backtracks: number) => schedule.next(t.sigma, t.iteration + 1, { accepted: true, backtracks });

  /** The pending step's ladder: its next rung in process; with speculation every rung left, and
   *  the next iteration's statistics at the speculated rung. */
  function trialAsk(state: EnkfState): Ask {
    const t = state.pending!;
    const etas = opts.speculate ? remainingLadder(ls, t) : [t.eta];
    const rung = opts.speculate ? Math.min(etas.length - 1, Math.max(0, lastAcceptedRung(state) - t.backtracks)) : 0;
    const trial: TrialLadder = { iteration: t.iteration, base: state.theta, direction: t.direction, etas, ...(opts.speculate ? { statisticsRung: rung } : {}) };
    const point = trialPoint(state.theta, t.direction, etas[rung]);
    return { point, iteration: t.iteration + 1, sigma: acceptedSigma(t, t.backtracks + rung), statistics: opts.speculate, trial };
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
      const ladder = ask.trial;
      const phis = answer.trialPhis;
      if (!ladder || !phis || phis.length !== ladder.etas.length) throw new Error(`the answer for iteration ${ask.iteration} lacks the line-search values of its trial (${ladder?.etas.length ?? 0} rungs)`);
      const accuracy = opts.classification ? { batchAccuracy: t.batchAccuracy } : {};
      const members = { failedMembers: t.failedMembers, retries: t.attempt };
      let trial: Trial = t;
      for (let j = 0; j < phis.length; j++) {
        state.evaluations += 1;
        const verdict = judgeTrial(ls, trial, phis[j]);
        const evaluations = (k + 1) * (t.attempt + 1) + trial.backtracks + 1;
        if (verdict.kind === "accept") {
          state.theta = trialPoint(ladder.base, ladder.direction, trial.eta);
          state.pending = null;
          const rec: StepRecord = { objective: phis[j], sigma: t.drawSigma, gamma: t.gamma, step: trial.eta, accepted: true, backtracks: trial.backtracks, evaluations, solver: t.solver, ...accuracy, ...members };
          const backtracks = trial.backtracks;
          return finish(state, rec, t.iteration, elapsed, () => {
            // speculation hit: the answer's statistics are those of the next iteration at the new θ
            if (ask.statistics && j === ladder.statisticsRung) {
              if (!answer.stats) throw new Error(`the answer for iteration ${ask.iteration} lacks the ensemble statistics it asked for`);
              return begin(state, ask, answer.stats, elapsed);
            }
            return { state, ask: statisticsAsk(state.theta, t.iteration + 1, acceptedSigma(t, backtracks)) };
          });
        }
        if (verdict.kind === "backtrack") { trial = verdict.next; continue; }
        state.pending = null;
        const rec: StepRecord = { objective: t.phi0, sigma: t.drawSigma, gamma: t.gamma, step: 0, accepted: false, backtracks: trial.backtracks, evaluations, solver: t.solver, ...accuracy, ...members };
        return finish(state, rec, t.iteration, elapsed, () => ({
          state, ask: statisticsAsk(state.theta, t.iteration + 1, schedule.next(t.sigma, t.iteration + 1, { accepted: false, backtracks: trial.backtracks })),
        }));
      }
      // the rungs asked for are spent and the search goes on: the next rung
      state.pending = { ...t, eta: trial.eta, backtracks: trial.backtracks };
      return { state, ask: trialAsk(state) };
    },
  };
}
