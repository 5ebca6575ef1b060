// Gradient descent with the exact gradient and the same Armijo line search: the baseline that
// shows what local information alone does on multimodal problems. Needs problem.vjp.

import { objectiveGradient, gradientWorkspace, objective } from "../problems/objective.ts";
import type { Problem } from "../problems/types.ts";
import type { GradientDescentSpec } from "../spec/job.ts";
import { backtrack, lineSearchParams } from "./lineSearch.ts";
import type { Optimizer, StepRecord } from "./types.ts";

export function gradientDescent(problem: Problem, spec: GradientDescentSpec, alpha = 0, theta0?: Float64Array): Optimizer {
  if (!problem.vjp) throw new Error(`method "gradient-descent" needs an exact gradient, which problem "${problem.kind}" does not provide`);
  const n = problem.dimension;
  const ls = lineSearchParams(spec.lineSearch);
  const ws = gradientWorkspace(problem);
  const theta = theta0 ? Float64Array.from(theta0) : problem.initial();
  const grad = new Float64Array(n);
  const trialPoint = new Float64Array(n);
  const fTrial = new Float64Array(problem.outputSize);
  let phi = objectiveGradient(problem, theta, grad, ws, alpha);
  let evaluations = 1;
  return {
    method: "gradient-descent",
    theta,
    get objective() { return phi; },
    get evaluations() { return evaluations; },
    async step(iteration: number): Promise<StepRecord> {
      let evals = 0;
      if (problem.setIteration?.(iteration)) {
        phi = objectiveGradient(problem, theta, grad, ws, alpha);
        evals++;
      }
      let g2 = 0;
      for (let i = 0; i < n; i++) g2 += grad[i] * grad[i];
      const result = await backtrack(phi, -g2, spec.stepSize, ls, (eta) => {
        for (let i = 0; i < n; i++) trialPoint[i] = theta[i] - eta * grad[i];
        return objective(problem, trialPoint, fTrial, alpha);
      });
      evals += result.trials;
      if (result.accepted) {
        theta.set(trialPoint);
        phi = objectiveGradient(problem, theta, grad, ws, alpha);
        evals += 1;
      }
      evaluations += evals;
      return { objective: phi, sigma: 0, gamma: 0, step: result.accepted ? result.eta : 0, accepted: result.accepted, backtracks: result.backtracks, evaluations: evals, solver: "" };
    },
  };
}
