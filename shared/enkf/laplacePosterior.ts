// The Laplace posterior's rounds as a wrapper of the modified EnKF (process.ts). Once the wrapped
// process asks nothing more, the wrapper asks the statistics of fresh draws at the result θ*: the
// same question as an iteration's first (Φ, QᵀWQ, Qᵀg for a draw of K members), so every
// evaluator (the in-process kernels, the workflow's member blocks, `enkf serve`) answers it
// unchanged. From the draws' Grams it estimates the Gauss–Newton Hessian H = JᵀWJ
// (= JᵀΓ⁻¹J + Σ₀⁻¹ for an inverse problem with its prior, laplace.ts) and keeps N(θ*, H⁻¹) in its
// state, for the run's end to read (runLoop.ts finishRun). One draw when K ≥ n; with K < n, the
// draws that determine H (drawsFor). The draws come from their own stream (laplaceSeed), at the
// last iteration's σ unless the job names one. A posterior that cannot be formed (failed members,
// a direction the data and prior leave open) is recorded as unavailable, with the reason: the
// point estimate stands.

import { perturbation, type EnsembleDraw } from "../math/perturbation.ts";
import { validMembers } from "./failurePolicy.ts";
import { drawsFor, hessianFromDraws, laplaceCovariance, LaplaceError, type DrawStatistics } from "./laplace.ts";
import type { Answer, Ask, EnsembleRequest } from "./modifiedEnkfTypes.ts";
import type { Problem } from "../problems/types.ts";
import { summarizePosterior, summarizeSamples } from "./posteriorSummary.ts";
import type { OptimizerSpec } from "../spec/job.ts";
import type { LaplaceEstimate, Process, ProcessState, Told } from "./process.ts";
import type { RunContext } from "./runLoop.ts";

/** The seed of the Laplace draws' stream (apart from every iteration's and retry's). */
export const laplaceSeed = (seed: number) => (seed + 0x9e3779b9 * 7) % Number.MAX_SAFE_INTEGER;

/** The wrapper's state: the wrapped process's inside, the draws' statistics so far, the estimate. */
export interface LaplaceState<S extends ProcessState> extends ProcessState {
  readonly inner: S;
  readonly collected: readonly DrawStatistics[];
}

export interface LaplaceOptions {
  /** K, the members of each draw */
  ensembleSize: number;
  /** the draws' scale (default: the last iteration's σ) */
  sigma?: number;
  /** the scale before any iteration (the schedule's initial σ) */
  initialSigma: number;
  /** Ω of a request, as the wrapped process draws it (its perturbation kind) */
  draw(request: EnsembleRequest): EnsembleDraw;
}

/**
 * The modified EnKF `p` followed by the Laplace posterior's rounds at its result.
 *
 * @example
 * ```ts
 * const core = modifiedEnkf(spec, stop);
 * const process = laplacePosterior(core, { ensembleSize: 8, initialSigma: 0.1, draw: core.draw });
 * const result = await runLoop(process, kernelAnswers(problem, kernel, 0), ctx, theta0);
 * result.posterior?.parameters.forcing.interval; // with ctx.summarizePosterior
 * ```
 */
export function laplacePosterior<S extends ProcessState>(
  p: Process<S, Ask, Answer>,
  opts: LaplaceOptions,
): Process<LaplaceState<S>, Ask, Answer> {
  const k = opts.ensembleSize;
  const wrap = (inner: S): LaplaceState<S> => ({
    inner,
    collected: [],
    theta: inner.theta,
    progress: inner.progress,
    evaluations: inner.evaluations,
  });
  const inside = (state: LaplaceState<S>): S => ({ ...state.inner, progress: state.progress });
  const sigmaOf = (state: LaplaceState<S>) => opts.sigma ?? state.progress.history.at(-1)?.sigma ?? opts.initialSigma;
  /** draw d of the posterior's rounds */
  const drawAt = (state: LaplaceState<S>, d: number): EnsembleDraw => {
    const base = opts.draw({ iteration: 0, sigma: sigmaOf(state), attempt: 0 });
    return { ...base, seed: laplaceSeed(base.seed), iteration: d };
  };
  const estimate = (state: LaplaceState<S>, collected: readonly DrawStatistics[]): LaplaceEstimate => {
    const n = state.theta.length;
    const common = { ensembleSize: k, draws: collected.length, sigma: sigmaOf(state) };
    try {
      const { covariance } = laplaceCovariance(hessianFromDraws(collected, n), n);
      return { theta: state.theta, covariance, ...common };
    } catch (e) {
      if (e instanceof LaplaceError) return { unavailable: e.message, ...common };
      throw e;
    }
  };
  return {
    method: p.method,
    init: (theta0) => wrap(p.init(theta0)),
    ask(state) {
      // the wrapped process asks until the run has ended (its ask is null exactly then: process.ts)
      if (!state.progress.done) return p.ask(inside(state));
      if (state.posterior) return null;
      const d = state.collected.length;
      const draw = drawAt(state, d);
      return {
        iteration: state.progress.history.length,
        sigma: draw.sigma,
        attempt: 0,
        point: state.theta,
        draw,
        statistics: true,
      };
    },
    tell(state, answer, elapsed): Told<LaplaceState<S>> {
      if (!state.progress.done) {
        const told = p.tell(inside(state), answer, elapsed);
        return { state: wrap(told.state), records: told.records };
      }
      const stats = answer.stats;
      if (!stats) throw new Error("the Laplace posterior's round was answered without statistics");
      const n = state.theta.length;
      const draw = drawAt(state, state.collected.length);
      const { mask, valid } = validMembers(stats.gram, stats.rhs, k);
      const members = new Float64Array(valid * n),
        gram = new Float64Array(valid * valid);
      const rows = Array.from(mask.keys()).filter((j) => mask[j]);
      rows.forEach((j, a) => {
        perturbation(draw, j, members.subarray(a * n, (a + 1) * n));
        rows.forEach((i, b) => (gram[a * valid + b] = stats.gram[j * k + i]));
      });
      const collected = [...state.collected, { members, count: valid, gram }];
      const evaluations = state.evaluations + k + 1;
      if (collected.length < drawsFor(k, n) && Number.isFinite(stats.phi))
        return { state: { ...state, collected, evaluations }, records: [] };
      return { state: { ...state, collected: [], evaluations, posterior: estimate(state, collected) }, records: [] };
    },
  };
}

/** The run context's summary of a posterior, where the job forms one: the sampler's, or the
 *  modified EnKF's Laplace posterior on a problem that asks for it. */
export function posteriorContext(problem: Problem, optimizer: OptimizerSpec): Pick<RunContext, "summarizePosterior"> {
  const { parameterNames: names, parameterBounds: bounds } = problem;
  if (!names || !bounds || optimizer.method === "enkf" || optimizer.method === "gradient-descent") return {};
  if (optimizer.method === "modified-enkf" && !problem.laplace) return {};
  const seed = optimizer.seed;
  return {
    summarizePosterior(estimate) {
      if ("samples" in estimate) {
        const { count } = estimate;
        const { summary, units } = summarizeSamples(estimate.samples, count, bounds, names);
        return { posterior: summary, samples: { data: units, count, names: [...names] } };
      }
      if ("unavailable" in estimate) return { posterior: { method: "laplace", unavailable: estimate.unavailable } };
      return {
        posterior: summarizePosterior(estimate.theta, estimate.covariance, bounds, names, { seed, ...estimate }),
      };
    },
  };
}
