// `enkf run` for a job with compute.shards (or --store): the job's state machine, the definition
// the CDK app deploys, run on this machine (local/engine.ts). The store is a directory
// (default: the run's output directory) or s3://bucket/prefix with --endpoint for S3-compatible
// servers; result.json, theta.npy and history.csv end up in it.

import { UnsupportedJobError } from "../shared/setup/jobSetup.ts";
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { runLocalWorkflow } from "../local/engine.ts";
import type { Dataset } from "../shared/data/types.ts";
import type { JobSpec } from "../shared/spec/job.ts";
import { LimitError } from "../shared/spec/limits.ts";
import { getJson, StoreError, type BlobStore } from "../shared/store/blobStore.ts";
import { openStore } from "../shared/store/openStore.ts";
import { WorkflowError } from "../shared/workflow/errors.ts";
import { prepareMemberJob } from "../shared/workflow/memberJob.ts";
import { prepareJob } from "../shared/workflow/shardJob.ts";
import { InverseProblemError } from "../shared/problems/inverse.ts";
import type { InputReader } from "../shared/setup/inverseInputs.ts";
import { writeAtomic } from "./files.ts";
import { bestLine, parameterLines, wroteFiles } from "./runSummary.ts";
import type { Posterior } from "../shared/enkf/types.ts";
import { CliError, type Io } from "./io.ts";

export interface WorkflowFlags {
  store?: string;
  endpoint?: string;
  outDir: string;
  /** --out given with --store: the results are copied there too */
  copyTo?: string;
  /** a warm start's θ₀ */
  theta0?: Float64Array;
  quiet: boolean;
  force: boolean;
}

/** What the state machine runs: a network on data shards, or an inverse problem on member blocks
 *  (its input files read through `read`, relative to the job file). */
export type WorkflowInput = { dataset: Dataset } | { read: InputReader };

export async function runWorkflow(
  job: JobSpec,
  input: WorkflowInput | undefined,
  flags: WorkflowFlags,
  io: Io,
): Promise<number> {
  // member blocks take every ensemble method of an inverse problem; data shards, the modified EnKF
  const method = job.optimizer.method;
  if (!input || method === "gradient-descent" || ("dataset" in input && method !== "modified-enkf"))
    throw new CliError(
      2,
      "compute.shards, compute.memberBlocks and --store run the state machine, which runs the " +
        "modified EnKF on networks, and the ensemble methods on inverse problems; this job runs without them",
    );
  const location = flags.store ?? flags.outDir;
  const shards = "dataset" in input ? (job.compute.shards ?? 4) : (job.compute.memberBlocks ?? 1);
  let store: BlobStore;
  try {
    store = openStore(location.startsWith("s3://") ? location : resolve(location), { endpoint: flags.endpoint });
  } catch (e) {
    throw new CliError(2, (e as Error).message);
  }
  if (!flags.force && !location.startsWith("s3://") && existsSync(join(resolve(location), "result.json"))) {
    throw new CliError(
      2,
      `${location} already holds a run (result.json); choose another --out/--store or pass --force`,
    );
  }
  try {
    if ("dataset" in input) await prepareJob(store, job, input.dataset, shards, flags.theta0);
    else await prepareMemberJob(store, job, input.read, flags.theta0);
  } catch (e) {
    if (e instanceof InverseProblemError) throw new CliError(2, `invalid problem: ${e.message}`);
    if (
      e instanceof WorkflowError ||
      e instanceof UnsupportedJobError ||
      e instanceof RangeError ||
      e instanceof LimitError
    )
      throw new CliError(2, e.message);
    if (e instanceof StoreError) throw new CliError(1, e.message);
    throw e;
  }
  const code = await executeWorkflow(store, location, job, shards, flags, io, false);
  if (flags.copyTo) await copyResults(store, flags.copyTo, flags.quiet, io);
  return code;
}

/** The run's result files, from the store into a directory (enkf run --store … --out DIR). */
async function copyResults(store: BlobStore, dir: string, quiet: boolean, io: Io): Promise<void> {
  const names = [
    "result.json",
    "theta.npy",
    "theta-last.npy",
    "model.json",
    "history.csv",
    "spec.json",
    ...(await store.list("plots/")),
  ];
  const copied: string[] = [];
  for (const name of names) {
    if (!(await store.has(name))) continue;
    await writeAtomic(join(dir, ...name.split("/")), await store.get(name));
    copied.push(name);
  }
  if (!quiet)
    io.stdout.write(`  copied ${copied.filter((n) => !n.startsWith("plots/")).join(", ")} and plots/ to ${dir}\n`);
}

/** Runs (or resumes) the prepared job in `store` on the local state machine and reports. */
export async function executeWorkflow(
  store: BlobStore,
  location: string,
  job: JobSpec,
  shards: number,
  flags: { endpoint?: string; quiet: boolean },
  io: Io,
  resume: boolean,
): Promise<number> {
  let last = 0;
  const t0 = performance.now();
  const items = `${shards} ${job.problem.type === "inverse" ? "member block" : "shard"}${shards === 1 ? "" : "s"}`;
  let failed: Error | null = null;
  try {
    await runLocalWorkflow({
      job: {
        store: store.location.startsWith("s3://") ? store.location : resolve(location),
        ...(flags.endpoint ? { endpoint: flags.endpoint } : {}),
      },
      resume,
      maxConcurrency: Math.min(job.compute.maxConcurrency, shards),
      // the evaluate tasks run on worker threads, one per core (at most one per shard)
      workers: Math.min(availableParallelism(), shards, job.compute.maxConcurrency),
      onEvent: (e) => {
        if (flags.quiet || e.type !== "StateExited" || e.state?.name !== "Reduce") return;
        const now = performance.now();
        if (now - last < 2000) return;
        last = now;
        const c = (e.state.output ?? {}) as { round?: number; iterations?: number; objective?: number };
        const objective = c.objective !== undefined ? `  objective ${c.objective.toExponential(4)}` : "";
        io.stderr.write(
          `iter ${c.iterations ?? 0}/${job.stop.maxIterations}${objective}  round ${c.round ?? 0}  ` +
            `${items}  elapsed ${((now - t0) / 1000).toFixed(1)} s\n`,
        );
      },
    });
  } catch (e) {
    failed = e as Error;
  }
  if (failed) {
    let cause = failed.message;
    try {
      cause = ((await getJson(store, "failure.json")) as { cause: string }).cause || cause;
    } catch {
      /* no failure record: keep the engine's message */
    }
    throw new CliError(1, `workflow failed: ${cause.split("\n")[0]} (state in ${store.location})`);
  }
  try {
    const { writeStorePlots } = await import("../shared/report/runReport.ts");
    await writeStorePlots(store);
  } catch (e) {
    if (!flags.quiet)
      io.stderr.write(`enkf: warning: could not draw the plots: ${(e as Error).message.split("\n")[0]}\n`);
  }
  const result = (await getJson(store, "result.json")) as {
    status: string;
    message: string;
    iterations: number;
    objective: number;
    metrics: Record<string, number>;
    best?: { iteration: number; metrics: Record<string, number> };
    last?: { metrics: Record<string, number> };
    parameters?: Record<string, number>;
    posterior?: Posterior;
  };
  const parameters = parameterLines(result);
  const acc =
    result.metrics.testAccuracy !== undefined ? `, test accuracy ${result.metrics.testAccuracy.toFixed(4)}` : "";
  const files = wroteFiles(result.last !== undefined, await store.has("model.json"), await store.has("samples.npy"));
  if (!flags.quiet)
    io.stdout.write(
      `${result.status}: ${result.message}\n  iterations ${result.iterations}, objective ` +
        `${result.objective.toExponential(6)}${acc}, ${items}, ` +
        `${((performance.now() - t0) / 1000).toFixed(2)} s\n${parameters}${bestLine(result)}  ` +
        `wrote ${store.location}${store.location.endsWith("/") ? "" : "/"}{${files},plots/}\n`,
    );
  return 0;
}
