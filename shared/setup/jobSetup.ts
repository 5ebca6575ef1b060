// The wiring of a job to what runs it, written once for every path (enkf run in process, the
// workflow's steps, the service): the job's problem for its data, the model sized to the data's
// shape, and the ensemble kernel its compute section asks for. The modified EnKF's network
// problems keep their loss in sum form, divided by the batch rows at the reduction, exactly as a
// data shard's partial is; its kernels leave out the ½α‖θ‖² term, which the reduction adds.

import type { Dataset } from "../data/types.ts";
import type { BatchForward, Observations } from "../problems/inverse.ts";
import { createKernel } from "../kernels/create.ts";
import type { EnsembleKernel } from "../kernels/types.ts";
import type { NetworkModel } from "../models/model.ts";
import { buildProblem, networkModel } from "../problems/build.ts";
import type { Problem } from "../problems/types.ts";
import type { JobSpec, ModifiedEnkfSpec } from "../spec/job.ts";

/** A job that trains a network with the modified EnKF: what the workflow runs. */
export type NetworkJob = JobSpec & {
  problem: Extract<JobSpec["problem"], { type: "classification" | "regression" }>;
  optimizer: ModifiedEnkfSpec;
};

/** A job the workflow cannot run (a built-in problem, another method). */
export class UnsupportedJobError extends Error {
  override name = "UnsupportedJobError";
}

export function networkJob(job: JobSpec): NetworkJob {
  if (job.problem.type !== "classification" && job.problem.type !== "regression")
    throw new UnsupportedJobError(`the workflow trains networks; problem "${job.problem.type}" runs with enkf run`);
  if (job.optimizer.method !== "modified-enkf")
    throw new UnsupportedJobError(
      `the workflow runs the modified EnKF; method "${job.optimizer.method}" runs with enkf run`,
    );
  return job as NetworkJob;
}

/** The job's problem over its loaded data (network problems) or the built-in it names. */
export function jobProblem(
  job: JobSpec,
  dataset?: Dataset,
  theta0?: Float64Array,
  inverse?: { observations: Observations; forward?: BatchForward },
): Problem {
  return buildProblem(job.problem, {
    dataset,
    optimizer: job.optimizer,
    sumForm: job.optimizer.method === "modified-enkf",
    ...(theta0 ? { theta0 } : {}),
    ...(inverse ?? {}),
  });
}

/** The data's shape: all a model needs to be sized. */
export type DataShape = Pick<Dataset, "kind" | "features" | "outputs">;

/** The network job's model, sized to the data's shape. */
export function jobModel(job: NetworkJob, shape: DataShape): NetworkModel {
  return networkModel(job.problem.model, shape);
}

/** Where a kernel runs: ONNX threads, and RNG worker threads (0 where one kernel per core runs already). */
export interface Placement {
  threads?: number;
  rngWorkers?: number;
}

/** The ensemble kernel compute.backend names for this problem (undefined for methods without one). */
export function jobKernel(
  job: JobSpec,
  problem: Problem,
  warn: (line: string) => void,
  placement: Placement = {},
): Promise<EnsembleKernel | undefined> {
  const compute =
    placement.threads !== undefined
      ? { ...job.compute, threads: job.compute.threads ?? placement.threads }
      : job.compute;
  return createKernel(
    problem,
    job.optimizer,
    compute,
    warn,
    placement.rngWorkers !== undefined ? { rngWorkers: placement.rngWorkers } : {},
  );
}
