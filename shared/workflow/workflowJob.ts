// What the workflow's steps need of a prepared job, whatever its kind: its process (the optimizer,
// process.ts), the fan-out that answers the process's asks one round each (fanOut.ts), θ₀, and the
// run loop's context in the job's store. A network job trains over data shards (shardJob.ts); an
// inverse job calibrates over member blocks (memberJob.ts).

import type { RunContext } from "../enkf/runLoop.ts";
import type { Process, ProcessState } from "../enkf/process.ts";
import type { RunFileContext } from "../output/runFiles.ts";
import { networkJob } from "../setup/jobSetup.ts";
import { JobSpec } from "../spec/job.ts";
import { getJson, type BlobStore } from "../store/blobStore.ts";
import type { FanOut, Worker } from "./fanOut.ts";
import { keys } from "./jobStore.ts";
import { inverseJob, memberJob } from "./memberJob.ts";
import { loadManifest, shardJob } from "./shardJob.ts";

export { WorkflowError } from "./errors.ts";

export interface WorkflowJob {
  spec: JobSpec;
  process: Process<ProcessState, unknown, unknown>;
  fanOut: FanOut;
  theta0(): Promise<Float64Array>;
  context: RunContext;
  /** a network's model and data description, for model.json */
  network?: RunFileContext["network"];
  /** result.json's environment after `rounds` rounds, with the summed timings */
  environment(rounds: number, timings?: Record<string, number>): Record<string, unknown>;
}

/** The prepared job in `store` as the steps run it. */
export async function workflowJob(store: BlobStore, worker: Worker): Promise<WorkflowJob> {
  const spec = JobSpec.parse(await getJson(store, keys.spec));
  if (spec.problem.type === "inverse") return memberJob(store, inverseJob(spec), worker);
  return shardJob(store, networkJob(spec), worker);
}

/** A prepared job's spec and its round's items: training shards, or an inverse job's member blocks
 *  (which its stored spec always names: memberJob.ts fills compute.memberBlocks in). */
export async function preparedJob(store: BlobStore): Promise<{ job: JobSpec; shards: number }> {
  const job = JobSpec.parse(await getJson(store, keys.spec));
  if (job.problem.type === "inverse") return { job, shards: job.compute.memberBlocks ?? 1 };
  return { job: networkJob(job), shards: (await loadManifest(store)).splits.train.shards.length };
}
