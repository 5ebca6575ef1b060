// The modified EnKF (Haber, Lucka & Ruthotto 2018, "Never look back", arXiv 1805.08034) as a pure
// ask/tell process (process.ts). Iteration k, the paper's modified update written out:
//   1. a fresh Ω_k = σ_k Z_k (n×K) from the counter-based RNG; old ensembles are never reused;
//   2. Q_j = F(θ_k + ω_j) − F(θ_k), forward passes only (Q: M×K);
//   3. (QᵀWQ + γI) s = −Qᵀg, the Gauss–Newton step restricted to span(Ω_k), with W = ∇²_F L and
//      g = ∇_F L in output space (the ½α‖θ‖² term adds αΩᵀΩ and αΩᵀθ; the evaluator's reduction);
//   4. θ_{k+1} = θ_k + η Ω_k s, η from Armijo backtracking on Φ with slope bᵀs (lineSearch.ts);
//   then σ follows its schedule (schedules.ts); a rejected step keeps θ_k. Failed members, redraws
//   and a non-finite Φ follow the failure policy (failurePolicy.ts).
//
// The asks, one question each: the statistics (Φ, QᵀWQ, Qᵀg) at θ_k for iteration k's Ω and batch,
// then Φ at one rung θ_k + η d of the line search at a time. An ask carries its draw (Ω's seed, σ
// and shape) and, with a trial, the rest of its ladder and the σ the next iteration draws with if
// the search accepts at each rung: what a wrapper needs to ask ahead (speculation.ts) without this
// file knowing. The answer to a statistics ask brings d = Ωs with it (`direction`): the evaluator
// holds Ω in whatever precision its forward used.

import type { FactoredBlock } from "../math/perturbation.ts";
import { trialPoint } from "../math/vector.ts";
import type { ModifiedEnkfSpec, StopSpec } from "../spec/job.ts";
import { failurePolicy } from "./failurePolicy.ts";
import { firstTrial, judgeTrial, lineSearchParams, remainingLadder } from "./lineSearch.ts";
import type { EnkfState, EnsembleRequest, ModifiedEnkf, PendingTrial, Statistics } from "./modifiedEnkfTypes.ts";
import { currentObjective, startProgress, withRow, type Told } from "./process.ts";
import { sigmaSchedule, stepLength } from "./schedules.ts";
import type { StepRecord } from "./types.ts";

export type * from "./modifiedEnkfTypes.ts";

/** What one iteration's row says besides its outcome. */
type Facts = Pick<StepRecord, "sigma" | "gamma" | "solver" | "batchAccuracy" | "failedMembers" | "retries">;
type Outcome = Pick<StepRecord, "objective" | "step" | "accepted" | "backtracks" | "evaluations">;

/** The one builder of the modified EnKF's rows, in the history's column order. */
const record = (f: Facts, o: Outcome): StepRecord => ({
  objective: o.objective,
  sigma: f.sigma,
  gamma: f.gamma,
  step: o.step,
  accepted: o.accepted,
  backtracks: o.backtracks,
  evaluations: o.evaluations,
  solver: f.solver,
  ...(f.batchAccuracy !== undefined ? { batchAccuracy: f.batchAccuracy } : {}),
  failedMembers: f.failedMembers,
  retries: f.retries,
});

/**
 * The modified EnKF for a job's optimizer and stopping rule; `matrices`, the model's dense weight
 * matrices, which low-rank perturbations factor (none: full draws only).
 *
 * @example
 * ```ts
 * const enkf = modifiedEnkf(spec, stop);
 * let state = enkf.init(theta0);
 * const ask = enkf.ask(state)!; // { statistics: true, point: θ₀, draw: Ω₀ … }
 * ({ state } = enkf.tell(state, { stats: await evaluate(ask) }, 0.1)); // a trial is pending
 * enkf.ask(state)!.trial!.etas; // [η₀]: Φ(θ₀ + η₀ d) is the next question
 * ```
 */
export function modifiedEnkf(
  spec: ModifiedEnkfSpec,
  stop: StopSpec,
  matrices: readonly FactoredBlock[] = [],
): ModifiedEnkf {
  const k = spec.ensembleSize;
  const schedule = sigmaSchedule(spec.sigma);
  const ls = lineSearchParams(spec.lineSearch);
  const policy = failurePolicy(spec, matrices);
  const draw = (r: EnsembleRequest) => policy.draw(r.sigma, r.iteration, r.attempt);
  /** σ of the next iteration after the pending trial's outcome */
  const nextSigma = (t: PendingTrial, accepted: boolean, backtracks: number) =>
    schedule.next(t.sigma, t.iteration + 1, { accepted, backtracks });
  /** Nesterov momentum (PyTorch's form, d in place of −∇Φ): m = μ m_prev + d, the step along d + μ m. */
  const withMomentum = (d: Float64Array, previous: Float64Array | undefined) => {
    const mu = spec.momentum;
    if (mu === undefined) return { direction: d };
    const velocity = previous ? d.map((v, i) => mu * previous[i] + v) : Float64Array.from(d);
    return { direction: d.map((v, i) => v + mu * velocity[i]), velocity };
  };

  /** The row of iteration `iteration` (0-based) joins the history. */
  const finish = (
    state: EnkfState,
    iteration: number,
    rec: StepRecord,
    elapsed: number,
    next: Partial<EnkfState>,
  ): Told<EnkfState> => {
    const row = { iteration: iteration + 1, ...rec, seconds: elapsed };
    return { state: withRow({ ...state, ...next }, stop, row), records: [row] };
  };

  /** The statistics of request `req` at θ are in: solve and propose a trial, redraw, or reject. */
  function begin(state: EnkfState, req: EnsembleRequest, stats: Statistics, elapsed: number): Told<EnkfState> {
    const { iteration, sigma, attempt } = req;
    const ensemble = draw(req);
    const evaluated = { ...state, evaluations: state.evaluations + k + 1 };
    const verdict = policy.judge(stats, attempt);
    if (verdict.kind === "retry")
      return { state: { ...evaluated, next: { iteration, sigma, attempt: attempt + 1 } }, records: [] };
    const facts: Facts = {
      sigma: ensemble.sigma,
      gamma: 0,
      solver: "",
      ...(stats.accuracy !== undefined ? { batchAccuracy: stats.accuracy } : {}),
      failedMembers: verdict.kind === "give-up" ? verdict.failed : verdict.kind === "ok" ? k - verdict.valid : 0,
      retries: attempt,
    };
    const evaluations = (k + 1) * (attempt + 1);
    const rejected = (f: Facts, objective: number) =>
      finish(
        evaluated,
        iteration,
        record(f, { objective, step: 0, accepted: false, backtracks: 0, evaluations }),
        elapsed,
        {
          ...(spec.momentum !== undefined ? { velocity: undefined } : {}),
          next: {
            iteration: iteration + 1,
            sigma: schedule.next(sigma, iteration + 1, { accepted: false, backtracks: 0 }),
            attempt: 0,
          },
        },
      );
    // the mean's Φ is not finite, or the ensemble kept failing: rejected without a trial
    if (verdict.kind !== "ok") return rejected(facts, Number.isFinite(stats.phi) ? stats.phi : currentObjective(state));
    const { s, gamma, slope, solver } = policy.solve(stats, verdict);
    const trial = firstTrial(ls, stats.phi, slope, stepLength(spec.stepSchedule, spec.stepSize, iteration));
    // not a descent direction: rejected without a trial
    if (!trial) return rejected({ ...facts, gamma, solver }, stats.phi);
    const d = new Float64Array(state.theta.length);
    stats.direction(s, d);
    const { direction, velocity } = withMomentum(d, state.velocity);
    const pending: PendingTrial = {
      iteration,
      sigma,
      drawSigma: ensemble.sigma,
      attempt,
      failedMembers: facts.failedMembers!,
      gamma,
      solver,
      ...trial,
      direction,
      ...(velocity ? { velocity } : {}),
      ...(stats.accuracy !== undefined ? { batchAccuracy: stats.accuracy } : {}),
    };
    return { state: { ...evaluated, pending }, records: [] };
  }

  /** Φ at the pending trial's rung is in: accept, backtrack or reject. */
  function judge(state: EnkfState, t: PendingTrial, phi: number, elapsed: number): Told<EnkfState> {
    const evaluated = { ...state, evaluations: state.evaluations + 1 };
    const verdict = judgeTrial(ls, t, phi);
    if (verdict.kind === "backtrack")
      return {
        state: { ...evaluated, pending: { ...t, eta: verdict.next.eta, backtracks: verdict.next.backtracks } },
        records: [],
      };
    const accepted = verdict.kind === "accept";
    const facts: Facts = {
      sigma: t.drawSigma,
      gamma: t.gamma,
      solver: t.solver,
      batchAccuracy: t.batchAccuracy,
      failedMembers: t.failedMembers,
      retries: t.attempt,
    };
    const rec = record(facts, {
      objective: accepted ? phi : t.phi0,
      step: accepted ? t.eta : 0,
      accepted,
      backtracks: t.backtracks,
      evaluations: (k + 1) * (t.attempt + 1) + t.backtracks + 1,
    });
    return finish(evaluated, t.iteration, rec, elapsed, {
      ...(accepted ? { theta: trialPoint(state.theta, t.direction, t.eta) } : {}),
      // momentum restarts after a rejected step
      ...(spec.momentum !== undefined ? { velocity: accepted ? t.velocity : undefined } : {}),
      pending: null,
      next: { iteration: t.iteration + 1, sigma: nextSigma(t, accepted, t.backtracks), attempt: 0 },
    });
  }

  return {
    method: "modified-enkf",
    draw,
    init: (theta0) => ({
      theta: Float64Array.from(theta0),
      progress: startProgress(),
      evaluations: 0,
      pending: null,
      next: { iteration: 0, sigma: schedule.initial, attempt: 0 },
    }),
    ask(state) {
      if (state.progress.done) return null;
      const t = state.pending;
      if (!t) return { ...state.next, point: state.theta, draw: draw(state.next), statistics: true };
      const etas = remainingLadder(ls, t);
      const sigmas = etas.map((_, r) => nextSigma(t, true, t.backtracks + r));
      const request = { iteration: t.iteration + 1, sigma: sigmas[0], attempt: 0 };
      return {
        ...request,
        point: trialPoint(state.theta, t.direction, t.eta),
        draw: draw(request),
        statistics: false,
        trial: {
          iteration: t.iteration,
          base: state.theta,
          direction: t.direction,
          etas: [t.eta],
          ladder: { etas, sigmas },
        },
      };
    },
    tell(state, answer, elapsed) {
      const t = state.pending;
      if (t) {
        const phi = answer.trialPhis?.[0];
        if (phi === undefined) throw new Error(`the answer for iteration ${t.iteration} lacks Φ at its trial point`);
        return judge(state, t, phi, elapsed);
      }
      const req = state.next;
      if (!answer.stats)
        throw new Error(`the answer for iteration ${req.iteration} lacks the ensemble statistics it asked for`);
      let started = state;
      if (req.iteration === 0 && state.progress.history.length === 0) {
        started = { ...state, progress: { ...state.progress, startObjective: answer.stats.phi } };
        if (!Number.isFinite(answer.stats.phi)) {
          const done = {
            status: "failed" as const,
            message: `the objective at the start point is not finite (${answer.stats.phi})`,
          };
          return { state: { ...started, progress: { ...started.progress, done } }, records: [] };
        }
      }
      return begin(started, req, answer.stats, elapsed);
    },
  };
}
