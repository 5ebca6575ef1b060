// An inverse job as the workflow runs it: the modified EnKF with speculation, EKI or the ensemble
// Kalman sampler (both ask the forward at their particles), over the
// member-block fan-out (memberFanOut.ts), and its preparation. The job's input files (observations,
// an onnx graph) are copied into the store under inputs/ when it is prepared; a worker builds the
// problem from them once (its forward probed once) and keeps it in its cache.

import { enkfProcess } from "../enkf/enkfProcess.ts";
import { eki } from "../enkf/eki.ts";
import { eks } from "../enkf/eks.ts";
import { posteriorContext } from "../enkf/laplacePosterior.ts";
import { lineSearchParams } from "../enkf/lineSearch.ts";
import { InverseProblemError, type InverseProblem } from "../problems/inverse.ts";
import { inputFiles, loadInverseProblem, type InputReader } from "../setup/inverseInputs.ts";
import { checkLimits } from "../spec/limits.ts";
import {
  JobSpec,
  type EksSpec,
  type EnkfSpec,
  type InverseProblem as InverseProblemSpec,
  type ModifiedEnkfSpec,
} from "../spec/job.ts";
import { putJson, type BlobStore } from "../store/blobStore.ts";
import type { Worker } from "./fanOut.ts";
import { bytesF64, f64Bytes, keys } from "./jobStore.ts";
import { ekiPoints, enkfPoints, memberFanOut } from "./memberFanOut.ts";
import { WorkflowError } from "./errors.ts";
import type { WorkflowJob } from "./workflowJob.ts";

export type InverseJob = JobSpec & { problem: InverseProblemSpec; optimizer: ModifiedEnkfSpec | EnkfSpec | EksSpec };

/** Where a prepared job's input files live in its store, by the field that names them. */
const STORED_INPUTS: Record<string, string> = {
  "problem.observations.values": "observations.npy",
  "problem.observations.noise.std": "noise-std.npy",
  "problem.forward.path": "forward.onnx",
};
const inputKey = (name: string) => `inputs/${name}`;

/** Step Functions' payload limit is 256 KiB; a lambda block's request and answer stay well below. */
const LAMBDA_PAYLOAD_BYTES = 200_000;
/** bytes per number in a JSON payload, generously (a float64's shortest form is at most 24) */
const JSON_NUMBER_BYTES = 25;

export function isInverseJob(job: JobSpec): job is InverseJob {
  return job.problem.type === "inverse" && job.optimizer.method !== "gradient-descent";
}

export function inverseJob(job: JobSpec): InverseJob {
  if (!isInverseJob(job))
    throw new WorkflowError(
      `the state machine's member branch runs inverse problems with the modified EnKF, EKI or the sampler; ` +
        `this job is problem "${job.problem.type}", method "${job.optimizer.method}"`,
    );
  return job;
}

const blocksOf = (job: InverseJob) => job.compute.memberBlocks ?? 1;
/** The most points one round evaluates: the modified EnKF's θ, K members and longest ladder; EKI's
 *  and the sampler's J particles. */
const roundSize = (job: InverseJob) =>
  job.optimizer.method !== "modified-enkf"
    ? job.optimizer.ensembleSize
    : job.optimizer.ensembleSize + 1 + 1 + (lineSearchParams(job.optimizer.lineSearch)?.maxBacktracks ?? 0);

/**
 * The client's part for an inverse job: builds its problem first (so every check, from the
 * observations' length to a forward that answers at the prior mean, comes before anything is
 * written), then writes the job with compute.memberBlocks filled in and its input files copied to
 * inputs/ (the stored spec names them there). `read` gives the files (the job file's folder).
 */
export async function prepareMemberJob(
  store: BlobStore,
  spec: JobSpec,
  read: InputReader,
  theta0?: Float64Array,
): Promise<void> {
  const job = inverseJob(spec);
  const problem = await loadInverseProblem(job.problem, read);
  if (job.optimizer.method === "enkf" && problem.loss.name !== "least-squares")
    throw new WorkflowError(`method "enkf" needs a least-squares loss; this problem uses ${problem.loss.name}`);
  checkLimits({
    ensembleSize: job.optimizer.ensembleSize,
    parameters: problem.dimension,
    timeLimit: job.stop.timeLimit,
  });
  if (theta0 && theta0.length !== problem.dimension)
    throw new WorkflowError(
      `the warm start's θ has ${theta0.length} parameters; this problem has ${problem.dimension}`,
    );
  const blocks = blocksOf(job);
  if (job.problem.forward.type === "lambda") {
    const rows = Math.ceil(roundSize(job) / blocks);
    const bytes = rows * Math.max(problem.dimension, problem.observed) * JSON_NUMBER_BYTES;
    if (bytes > LAMBDA_PAYLOAD_BYTES)
      throw new InverseProblemError(
        "compute.memberBlocks",
        `a block of ${rows} members sends and receives about ${bytes} bytes, above the state ` +
          `machine's payload limit (${LAMBDA_PAYLOAD_BYTES}); use more member blocks`,
      );
  }
  const stored = structuredClone(job);
  for (const { field, name } of inputFiles(job.problem)) {
    await store.put(inputKey(STORED_INPUTS[field]), await read(name, field));
    if (field === "problem.observations.values") stored.problem.observations.values = STORED_INPUTS[field];
    if (field === "problem.observations.noise.std") stored.problem.observations.noise.std = STORED_INPUTS[field];
    if (field === "problem.forward.path" && stored.problem.forward.type === "onnx")
      stored.problem.forward.path = STORED_INPUTS[field];
  }
  if (theta0) await store.put(keys.initTheta, f64Bytes(theta0));
  await putJson(store, keys.spec, { ...stored, compute: { ...stored.compute, memberBlocks: blocks } });
}

/** The stored job's problem, built once per worker: building one reads its inputs and probes its
 *  forward (an http forward answers a request). */
function storedProblem(store: BlobStore, job: InverseJob, worker: Worker): Promise<InverseProblem> {
  const read: InputReader = (name, field) =>
    store.get(inputKey(name)).catch((e: unknown) => {
      throw new InverseProblemError(field, `the prepared job's ${name} is unreadable: ${(e as Error).message}`);
    });
  return worker.cache.get(`problem|${store.location}|${JSON.stringify(job)}`, () =>
    loadInverseProblem(job.problem, read),
  );
}

export async function memberJob(store: BlobStore, job: InverseJob, worker: Worker): Promise<WorkflowJob> {
  const problem = await storedProblem(store, job, worker);
  const f = job.problem.forward;
  const spec = job.optimizer;
  const points = { dimension: problem.dimension, outputSize: problem.outputSize, lossAt: () => problem.loss };
  const algorithm =
    spec.method === "enkf"
      ? eki(spec, job.stop, points)
      : spec.method === "eks"
        ? eks(spec, job.stop, { ...points, priorStd: problem.priorStd })
        : enkfProcess(spec, job.stop, [], true, problem.laplace);
  const round = {
    blocks: blocksOf(job),
    lambda: f.type === "lambda",
    ...(f.type === "lambda" ? { functionArn: f.functionArn } : {}),
    parameterNames: job.problem.parameters.map((p) => p.name),
  };
  return {
    spec: job,
    process: algorithm as WorkflowJob["process"],
    fanOut: memberFanOut(
      store,
      problem,
      spec.method === "modified-enkf" ? enkfPoints(problem, spec.ensembleSize) : ekiPoints,
      round,
      worker,
    ),
    theta0: async () =>
      (await store.has(keys.initTheta)) ? bytesF64(await store.get(keys.initTheta)) : problem.initial(),
    context: {
      stop: job.stop,
      // the misfit needs G at θ, which a lambda forward gives only through the state machine
      ...(f.type === "lambda" ? {} : { evaluate: (theta: Float64Array) => problem.evaluate!(theta) }),
      keepBest: async (theta) => {
        await store.put(keys.bestTheta, f64Bytes(theta));
      },
      best: async () => bytesF64(await store.get(keys.bestTheta)),
      parameters: (theta) => problem.parameters(theta),
      ...posteriorContext(problem, spec),
    },
    environment: (rounds) => ({
      engine: "workflow",
      rounds,
      memberBlocks: round.blocks,
      forward: f.type,
      node: process.version,
      platform: process.platform,
      arch: process.arch,
    }),
  };
}
