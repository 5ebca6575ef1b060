// The modified EnKF as every path runs it: the core (modifiedEnkf.ts), with the workflow's
// speculation (speculation.ts) when each ask costs a round, and the job's iterate averaging
// (averaging.ts) around it, and an inverse problem's Laplace posterior (laplacePosterior.ts)
// after it. Built here once, for the in-process run, the workflow's shard and member
// jobs and the store-less rounds, so a wrapper the job names is on every path.

import type { FactoredBlock } from "../math/perturbation.ts";
import type { ModifiedEnkfSpec, StopSpec } from "../spec/job.ts";
import { averaged } from "./averaging.ts";
import { laplacePosterior } from "./laplacePosterior.ts";
import { modifiedEnkf } from "./modifiedEnkf.ts";
import type { Answer, Ask } from "./modifiedEnkfTypes.ts";
import type { Process, ProcessState } from "./process.ts";
import { speculative } from "./speculation.ts";

/**
 * The job's modified EnKF with its wrappers.
 *
 * @param spec the optimizer (its `averaging`, if any, wraps the process)
 * @param stop the stopping rule
 * @param matrices a network's dense weight matrices (low-rank perturbations)
 * @param speculate ask as the workflow asks: whole ladders and speculative statistics per ask
 * @param laplace the problem's Laplace posterior (Problem.laplace): its rounds follow the run's
 * @example
 * ```ts
 * const process = enkfProcess(job.optimizer, job.stop, denseMatrices(model), false);
 * ```
 */
export function enkfProcess(
  spec: ModifiedEnkfSpec,
  stop: StopSpec,
  matrices: readonly FactoredBlock[] = [],
  speculate = false,
  laplace?: { sigma?: number },
): Process<ProcessState, Ask, Answer> {
  const core = modifiedEnkf(spec, stop, matrices);
  const rounds = speculate ? speculative(core) : core;
  const run = (spec.averaging ? averaged(rounds, spec.averaging) : rounds) as Process<ProcessState, Ask, Answer>;
  if (!laplace) return run;
  return laplacePosterior(run, {
    ensembleSize: spec.ensembleSize,
    initialSigma: typeof spec.sigma === "number" ? spec.sigma : spec.sigma.initial,
    ...(laplace.sigma !== undefined ? { sigma: laplace.sigma } : {}),
    draw: core.draw,
  }) as Process<ProcessState, Ask, Answer>;
}
