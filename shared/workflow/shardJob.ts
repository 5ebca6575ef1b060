// A network job as the workflow runs it, and its preparation: the modified EnKF with speculation (one round per ask)
// over the data-shard fan-out, and the run loop's context in the job's store: θ evaluated on the
// full splits through the workers' kernel's forward, as enkf run evaluates it, and the best θ kept
// in the store (best.theta.f64).

import { enkfProcess } from "../enkf/enkfProcess.ts";
import { decodeShards, encodeShards, parseManifest } from "../data/shards.ts";
import { shardPlan } from "../distributed/evaluateShard.ts";
import type { Dataset } from "../data/types.ts";
import { discrepancyLevel } from "../enkf/selection.ts";
import { availableParallelism } from "node:os";
import { denseMatrices, initModel, parameterCount } from "../models/model.ts";
import type { NetworkProblem } from "../problems/network.ts";
import { jobModel, jobProblem, networkJob, type NetworkJob } from "../setup/jobSetup.ts";
import { checkLimits } from "../spec/limits.ts";
import { JobSpec } from "../spec/job.ts";
import { putJson, type BlobStore } from "../store/blobStore.ts";
import { datasetReader, writeDatasetFiles } from "./datasetFiles.ts";
import { WorkflowError } from "./errors.ts";
import type { Worker } from "./fanOut.ts";
import { bytesF64, f64Bytes, keys } from "./jobStore.ts";
import { shardFanOut, shardKernel } from "./shardFanOut.ts";
import type { WorkflowJob } from "./workflowJob.ts";

export async function loadManifest(store: BlobStore) {
  return parseManifest(new TextDecoder().decode(await store.get(keys.manifest)), `${store.location}${keys.manifest}`);
}

/** The prepared job's whole dataset (train, validation and test), decoded once per worker, store and manifest. */
export async function jobDataset(store: BlobStore, worker?: Pick<Worker, "cache">): Promise<Dataset> {
  const manifest = await loadManifest(store);
  const decode = async () => decodeShards(manifest, await datasetReader(store, manifest), `${store.location}dataset`);
  return worker ? worker.cache.get(`dataset|${store.location}|${JSON.stringify(manifest)}`, decode) : decode();
}

/** The client's part: writes the job and its dataset, cut into `shards` training shards, to the
 *  store; `theta0`, a warm start's θ₀ (shared/predict/warmStart.ts checked that it fits);
 *  `blobs`, the service's content-addressed folder, so a dataset is stored once for all its jobs. */
export async function prepareJob(
  store: BlobStore,
  spec: unknown,
  dataset: Dataset,
  shards: number,
  theta0?: Float64Array,
  blobs?: string,
): Promise<void> {
  const job = networkJob(JobSpec.parse(spec));
  const n = parameterCount(jobModel(job, dataset));
  // the service's limits (shared/spec/limits.ts), before anything is written
  checkLimits({
    ensembleSize: job.optimizer.ensembleSize,
    parameters: n,
    timeLimit: job.stop.timeLimit,
    shards: {
      count: shards,
      trainRows: dataset.train.rows,
      valuesPerRow: dataset.features + (dataset.kind === "classification" ? 1 : dataset.outputs),
    },
  });
  shardPlan(dataset.train.rows, shards);
  if (theta0 && theta0.length !== n)
    throw new WorkflowError(`the warm start's θ has ${theta0.length} parameters; this job's network has ${n}`);
  if (theta0) await store.put(keys.initTheta, f64Bytes(theta0));
  await putJson(store, keys.spec, job);
  await writeDatasetFiles(store, encodeShards(dataset, shards), blobs);
}

export async function shardJob(store: BlobStore, job: NetworkJob, worker: Worker): Promise<WorkflowJob> {
  const manifest = await loadManifest(store);
  const model = jobModel(job, manifest);
  const warm = await store.has(keys.initTheta);
  // the kernel that evaluated θ on the full splits, for result.json ("auto" resolved on this runtime)
  let evaluatedBy: string = job.compute.backend;
  /** Loss and accuracy of θ on the full train, validation and test splits, as enkf run reports them:
   *  through the workers' kernel's forward where it has one (gpu jobs ran in the GPU container,
   *  which this step is not: the reference forward there). */
  async function evaluate(theta: Float64Array): Promise<Record<string, number>> {
    const problem = jobProblem(job, await jobDataset(store, worker)) as NetworkProblem;
    if (job.compute.backend === "gpu") return problem.evaluate!(theta);
    const kernel = await shardKernel(job, worker)(problem, job.optimizer.ensembleSize);
    try {
      evaluatedBy = kernel.name;
      return await problem.evaluate!(theta, kernel.predict);
    } finally {
      await kernel.dispose();
    }
  }
  return {
    spec: job,
    process: enkfProcess(job.optimizer, job.stop, denseMatrices(model), true),
    fanOut: shardFanOut(store, job, manifest, worker),
    theta0: async () => (warm ? bytesF64(await store.get(keys.initTheta)) : initModel(model, job.problem.seed)),
    context: {
      stop: job.stop,
      evaluate,
      keepBest: async (theta) => {
        await store.put(keys.bestTheta, f64Bytes(theta));
      },
      best: async () => bytesF64(await store.get(keys.bestTheta)),
      warmStart: warm,
      level: job.problem.type === "regression" ? discrepancyLevel(job.stop, manifest.outputs) : null,
    },
    network: { model, data: manifest },
    environment: (rounds, timings) => ({
      engine: "workflow",
      rounds,
      backend: evaluatedBy,
      requestedBackend: job.compute.backend,
      node: process.version,
      platform: process.platform,
      arch: process.arch,
      cores: availableParallelism(),
      // summed over every worker (CPU-seconds, so they may exceed the wall time) and the reducer
      ...(timings ? { timings } : {}),
    }),
  };
}
