// The modified EnKF (Haber, Lucka, Ruthotto 2018, "Never look back"). Iteration k:
//   1. draw a fresh Ω_k = σ_k Z_k (n×K) from the counter-based RNG (old ensembles are never reused);
//   2. Q_j = F(θ_k + ω_j) − F(θ_k), evaluated by the ensemble kernel;
//   3. solve (QᵀWQ + γI) s = −Qᵀg   (a Gauss–Newton step restricted to span(Ω_k));
//   4. θ_{k+1} = θ_k + η Ω_k s, η from Armijo backtracking on Φ with slope bᵀs;
//   then σ and γ follow their schedules. A rejected step keeps θ_k.
// Members whose forward fails (NaN or ±Inf) are dropped from the system; too many failures redraw
// the ensemble with σ halved; a non-finite Φ at θ_k rejects the iteration (memberFailures.ts).
// The step is async only because a kernel may be (a native engine, a worker pool); the math
// between the evaluations is synchronous.

import type { EnsembleKernel } from "../kernels/types.ts";
import type { Problem } from "../problems/types.ts";
import type { ModifiedEnkfSpec } from "../spec/job.ts";
import type { EnsembleDraw } from "./ensembleStatistics.ts";
import { backtrack, lineSearchParams } from "./lineSearch.ts";
import { judgeEnsemble, retrySeed, retrySigma, solveValid } from "./memberFailures.ts";
import { sigmaSchedule } from "./schedules.ts";
import type { Optimizer, StepRecord } from "./types.ts";

export async function modifiedEnkf(problem: Problem, spec: ModifiedEnkfSpec, kernel: EnsembleKernel, theta0?: Float64Array): Promise<Optimizer> {
  const n = problem.dimension;
  const k = spec.ensembleSize;
  if (kernel.k !== k) throw new Error(`kernel built for K = ${kernel.k}, optimizer wants ${k}`);
  const schedule = sigmaSchedule(spec.sigma);
  const ls = lineSearchParams(spec.lineSearch);
  const direction = new Float64Array(n);
  const trialPoint = new Float64Array(n);

  const theta = theta0 ? Float64Array.from(theta0) : problem.initial();
  problem.setIteration?.(0);
  let phi = await kernel.objective(theta);
  let sigma = schedule.initial;
  let evaluations = 1;
  if (!Number.isFinite(phi)) throw new Error(`the objective at the start point is not finite (${phi})`);

  return {
    method: "modified-enkf",
    theta,
    get objective() { return phi; },
    get evaluations() { return evaluations; },
    async step(iteration: number): Promise<StepRecord> {
      problem.setIteration?.(iteration);
      // a fresh ensemble; redrawn with σ halved while too many members fail (memberFailures.ts)
      let evals = 0;
      for (let attempt = 0; ; attempt++) {
        const draw: EnsembleDraw = { sigma: retrySigma(sigma, attempt), kind: spec.perturbation, seed: retrySeed(spec.seed, attempt), iteration };
        const stats = await kernel.statistics(theta, draw);
        evals += stats.evaluations;
        const verdict = judgeEnsemble(stats.phi, stats.gram, stats.rhs, k, spec, attempt);
        if (verdict.kind === "retry") continue;
        const accuracy = stats.accuracy !== undefined ? { batchAccuracy: stats.accuracy } : {};
        if (verdict.kind !== "ok") {
          // the mean's Φ is not finite, or the ensemble kept failing: rejected without a trial
          evaluations += evals;
          const record: StepRecord = {
            objective: Number.isFinite(stats.phi) ? stats.phi : phi, sigma: draw.sigma, gamma: 0, step: 0, accepted: false, backtracks: 0, evaluations: evals, solver: "",
            ...accuracy, failedMembers: verdict.kind === "give-up" ? verdict.failed : 0, retries: attempt,
          };
          sigma = schedule.next(sigma, iteration + 1, { accepted: false, backtracks: 0 });
          return record;
        }
        // Φ(θ) on this iteration's data is the line search's baseline
        phi = stats.phi;
        const { s, gamma, slope, solver } = solveValid(stats.gram, stats.rhs, k, verdict.mask, verdict.valid, spec);
        kernel.direction(s, direction);
        const result = await backtrack(phi, slope, spec.stepSize, ls, (eta) => {
          for (let i = 0; i < n; i++) trialPoint[i] = theta[i] + eta * direction[i];
          return kernel.objective(trialPoint);
        });
        evals += result.trials;
        evaluations += evals;
        if (result.accepted) {
          theta.set(trialPoint);
          phi = result.phi;
        }
        const record: StepRecord = {
          objective: phi,
          sigma: draw.sigma,
          gamma,
          step: result.accepted ? result.eta : 0,
          accepted: result.accepted,
          backtracks: result.backtracks,
          evaluations: evals,
          solver,
          ...accuracy,
          failedMembers: k - verdict.valid,
          retries: attempt,
        };
        sigma = schedule.next(sigma, iteration + 1, result);
        return record;
      }
    },
  };
}
