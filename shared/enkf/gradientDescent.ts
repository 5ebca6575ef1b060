// Gradient descent with the exact gradient and the same Armijo line search: the baseline that
// shows what local information alone does on multimodal problems. Needs problem.vjp. The line
// search is the modified EnKF's (lineSearch.ts), driven here by a plain loop.

import { objectiveGradient, gradientWorkspace, objective } from "../problems/objective.ts";
import { onIteration, type Problem } from "../problems/types.ts";
import type { GradientDescentSpec } from "../spec/job.ts";
import { firstTrial, judgeTrial, lineSearchParams } from "./lineSearch.ts";
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
  let current = onIteration(problem, 0);
  let phi = objectiveGradient(current, theta, grad, ws, alpha);
  let evaluations = 1;
  return {
    method: "gradient-descent",
    theta,
    get objective() { return phi; },
    get evaluations() { return evaluations; },
    async step(iteration: number): Promise<StepRecord> {
      let evals = 0;
      // a mini-batch problem's new batch: Φ and the gradient there
      const on = onIteration(problem, iteration);
      if (on !== current) {
        current = on;
        phi = objectiveGradient(on, theta, grad, ws, alpha);
        evals++;
      }
      let g2 = 0;
      for (let i = 0; i < n; i++) g2 += grad[i] * grad[i];
      let trial = firstTrial(ls, phi, -g2, spec.stepSize);
      let accepted = false, backtracks = 0;
      while (trial) {
        backtracks = trial.backtracks;
        for (let i = 0; i < n; i++) trialPoint[i] = theta[i] - trial.eta * grad[i];
        evals++;
        const verdict = judgeTrial(ls, trial, objective(current, trialPoint, fTrial, alpha));
        if (verdict.kind === "backtrack") { trial = verdict.next; continue; }
        accepted = verdict.kind === "accept";
        break;
      }
      const eta = accepted ? trial!.eta : 0;
      if (accepted) {
        theta.set(trialPoint);
        phi = objectiveGradient(current, theta, grad, ws, alpha);
        evals += 1;
      }
      evaluations += evals;
      return { objective: phi, sigma: 0, gamma: 0, step: eta, accepted, backtracks, evaluations: evals, solver: "" };
    },
  };
}
