// The modified EnKF (Haber, Lucka, Ruthotto 2018, "Never look back"). Iteration k:
//   1. draw a fresh Ω_k = σ_k Z_k (n×K) from the counter-based RNG (old ensembles are never reused);
//   2. Q_j = F(θ_k + ω_j) − F(θ_k);
//   3. solve (QᵀWQ + γI) s = −Qᵀg   (a Gauss–Newton step restricted to span(Ω_k));
//   4. θ_{k+1} = θ_k + η Ω_k s, η from Armijo backtracking on Φ with slope bᵀs;
//   then σ and γ follow their schedules. A rejected step keeps θ_k.

import { solveSymmetric } from "../math/linalg.ts";
import { objective } from "../problems/objective.ts";
import type { Problem } from "../problems/types.ts";
import type { ModifiedEnkfSpec } from "../spec/job.ts";
import { ensembleStatistics, ensembleWorkspace, type EnsembleDraw } from "./ensembleStatistics.ts";
import { backtrack, lineSearchParams } from "./lineSearch.ts";
import { gammaValue, sigmaSchedule } from "./schedules.ts";
import { checkWorkspace } from "./memory.ts";
import type { Optimizer, StepRecord } from "./types.ts";

export function modifiedEnkf(problem: Problem, spec: ModifiedEnkfSpec, alpha = 0, theta0?: Float64Array): Optimizer {
  const n = problem.dimension;
  const k = spec.ensembleSize;
  const schedule = sigmaSchedule(spec.sigma);
  const ls = lineSearchParams(spec.lineSearch);
  checkWorkspace("the ensemble workspace (Ω and Q, K×(n+M), plus the K×K system)", k * (n + problem.outputSize) + 2 * k * k, "reduce optimizer.ensembleSize or the problem size");
  const ws = ensembleWorkspace(problem, k);
  const system = new Float64Array(k * k);
  const direction = new Float64Array(n);
  const trialPoint = new Float64Array(n);

  const theta = theta0 ? Float64Array.from(theta0) : problem.initial();
  let f0 = new Float64Array(problem.outputSize);
  let fTrial = new Float64Array(problem.outputSize);
  let phi = objective(problem, theta, f0, alpha);
  let sigma = schedule.initial;
  let evaluations = 1;
  if (!Number.isFinite(phi)) throw new Error(`the objective at the start point is not finite (${phi})`);

  return {
    method: "modified-enkf",
    theta,
    get objective() { return phi; },
    get evaluations() { return evaluations; },
    step(iteration: number): StepRecord {
      let evals = 0;
      if (problem.setIteration?.(iteration)) {
        // a new mini-batch: the line search compares against Φ on this batch
        phi = objective(problem, theta, f0, alpha);
        evals++;
      }
      const draw: EnsembleDraw = { sigma, kind: spec.perturbation, seed: spec.seed, iteration };
      evals += ensembleStatistics(problem, theta, f0, draw, alpha, ws);
      let trace = 0;
      for (let j = 0; j < k; j++) trace += ws.gram[j * k + j];
      const gamma = gammaValue(spec.gamma, trace, k);
      system.set(ws.gram);
      for (let j = 0; j < k; j++) system[j * k + j] += gamma;
      const solved = solveSymmetric(system, ws.rhs, k);
      const s = solved.x;
      let slope = 0;
      for (let j = 0; j < k; j++) { s[j] = -s[j]; slope += ws.rhs[j] * s[j]; }
      // d = Ω s
      direction.fill(0);
      for (let j = 0; j < k; j++) {
        const sj = s[j], o = j * n;
        for (let i = 0; i < n; i++) direction[i] += sj * ws.omega[o + i];
      }
      const result = backtrack(phi, slope, spec.stepSize, ls, (eta) => {
        for (let i = 0; i < n; i++) trialPoint[i] = theta[i] + eta * direction[i];
        return objective(problem, trialPoint, fTrial, alpha);
      });
      evals += result.trials;
      evaluations += evals;
      if (result.accepted) {
        theta.set(trialPoint);
        phi = result.phi;
        const t = f0; f0 = fTrial; fTrial = t;
      }
      const record: StepRecord = {
        objective: phi,
        sigma,
        gamma,
        step: result.accepted ? result.eta : 0,
        accepted: result.accepted,
        backtracks: result.backtracks,
        evaluations: evals,
        solver: solved.method,
      };
      sigma = schedule.next(sigma, iteration + 1, result);
      return record;
    },
  };
}
