// The process a job's optimizer names, with its in-process evaluator: the modified EnKF answered by
// an ensemble kernel (kernelAnswers.ts), EKI and the sampler by the forward at their points,
// gradient descent by Φ and the exact gradient. The workflow pairs the same processes with its fan-outs instead
// (shared/workflow/jobProcess.ts).

import { enkfProcess } from "./enkfProcess.ts";
import { batchedKernel } from "../kernels/batched.ts";
import { referenceKernel } from "../kernels/reference.ts";
import type { EnsembleKernel } from "../kernels/types.ts";
import { denseMatrices } from "../models/model.ts";
import { forwardPoints } from "../problems/forwardPoints.ts";
import { isNetworkProblem } from "../problems/network.ts";
import { gradientWorkspace, objective, objectiveGradient } from "../problems/objective.ts";
import { onIteration, type Problem } from "../problems/types.ts";
import type { OptimizerSpec, StopSpec } from "../spec/job.ts";
import { eki, type EkiProblem, type PointsAnswer, type PointsAsk } from "./eki.ts";
import { eks } from "./eks.ts";
import { gradientDescent, type GradientAnswer, type GradientAsk } from "./gradientDescent.ts";
import { kernelAnswers } from "./kernelAnswers.ts";
import type { Process, ProcessState } from "./process.ts";

/** A process and the evaluator of its asks, with their types erased for whoever runs them. */
export interface Runnable {
  process: Process<ProcessState, unknown, unknown>;
  answer(ask: unknown): Promise<unknown>;
}

const runnable = <S extends ProcessState, A, R>(process: Process<S, A, R>, answer: (ask: A) => Promise<R>): Runnable =>
  ({ process, answer }) as unknown as Runnable;

/** EKI's evaluator: F at the asked points, on the ask's batch. */
export function pointAnswers(problem: Problem): (ask: PointsAsk) => Promise<PointsAnswer> {
  return async (ask) => {
    const outputs = new Float64Array(ask.count * problem.outputSize);
    await forwardPoints(onIteration(problem, ask.iteration), ask.points, ask.count, outputs);
    return { outputs };
  };
}

/** Gradient descent's evaluator: Φ (+ ½α‖θ‖²) and, when asked, its gradient (problem.vjp). */
function gradientAnswers(problem: Problem, alpha: number): (ask: GradientAsk) => Promise<GradientAnswer> {
  const ws = gradientWorkspace(problem);
  const f = new Float64Array(problem.outputSize);
  return async (ask) => {
    const on = onIteration(problem, ask.iteration);
    if (!ask.gradient) return { phi: objective(on, ask.point, f, alpha) };
    const gradient = new Float64Array(problem.dimension);
    return { phi: objectiveGradient(on, ask.point, gradient, ws, alpha), gradient };
  };
}

/** What EKI and the sampler see of a problem: its sizes and the loss on iteration k's batch. */
const particleProblem = (problem: Problem): EkiProblem => ({
  dimension: problem.dimension,
  outputSize: problem.outputSize,
  lossAt: (k) => onIteration(problem, k).loss,
});

/** Whether the problem's data changes with the iteration (mini-batches). */
const batched = (problem: Problem) => problem.at !== undefined && problem.at(1) !== problem.at(0);

/**
 * The job's process and its in-process evaluator; the modified EnKF evaluates through `kernel`
 * (default: the reference kernel, or the batched one for a forward that runs in batches).
 * `speculate`: ask as the workflow asks (speculation.ts), so each ask is one of its rounds.
 */
export function processFor(
  problem: Problem,
  spec: OptimizerSpec,
  stop: StopSpec,
  alpha: number,
  kernel?: EnsembleKernel,
  speculate = false,
): Runnable {
  switch (spec.method) {
    case "modified-enkf": {
      const k =
        kernel ??
        (problem.forwardBatch
          ? batchedKernel(problem, spec.ensembleSize)
          : referenceKernel(problem, spec.ensembleSize));
      if (k.k !== spec.ensembleSize)
        throw new Error(`kernel built for K = ${k.k}, optimizer wants ${spec.ensembleSize}`);
      const matrices = isNetworkProblem(problem) ? denseMatrices(problem.model) : [];
      const process = enkfProcess(spec, stop, matrices, speculate, problem.laplace);
      return runnable(process, kernelAnswers(problem, k, alpha));
    }
    case "enkf": {
      if (alpha > 0) throw new Error(`method "enkf" does not support problem.regularization; use "modified-enkf"`);
      return runnable(eki(spec, stop, particleProblem(problem)), pointAnswers(problem));
    }
    case "eks": {
      if (!problem.priorStd)
        throw new Error(`method "eks" samples an inverse problem's posterior; problem "${problem.kind}" has no prior`);
      const process = eks(spec, stop, { ...particleProblem(problem), priorStd: problem.priorStd });
      return runnable(process, pointAnswers(problem));
    }
    case "gradient-descent":
      if (!problem.vjp)
        throw new Error(
          `method "gradient-descent" needs an exact gradient, which problem "${problem.kind}" does not provide`,
        );
      return runnable(gradientDescent(spec, stop, batched(problem)), gradientAnswers(problem, alpha));
  }
}
