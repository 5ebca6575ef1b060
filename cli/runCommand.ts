// `enkf run <job.json> [--out DIR] [--quiet] [--force] [--store LOCATION [--endpoint URL]]`:
// validate the job, run it in-process with progress, and write spec.json, result.json, theta.npy
// and history.csv into DIR. A job with compute.shards, or a --store, runs through the job's state
// machine instead (workflowRun.ts).

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { cpus } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { Dataset } from "../shared/data/types.ts";
import { optimize } from "../shared/enkf/optimize.ts";
import type { RunResult } from "../shared/enkf/types.ts";
import { toJson } from "../shared/output/history.ts";
import { writeRunFiles } from "../shared/output/runFiles.ts";
import { problemRegularization, type JobSpec } from "../shared/spec/job.ts";
import type { Problem } from "../shared/problems/types.ts";
import { isNetworkProblem } from "../shared/problems/network.ts";
import type { NetworkModel } from "../shared/models/model.ts";
import { writeAtomic as writeFileAtomic } from "./files.ts";
import { progressSink } from "./progress.ts";
import { CliError, type Io } from "./io.ts";
import { BackendError } from "../shared/kernels/create.ts";
import { jobKernel } from "../shared/setup/jobSetup.ts";
import { checkLimits, LimitError } from "../shared/spec/limits.ts";
import type { EnsembleKernel } from "../shared/kernels/types.ts";
import { runWorkflow } from "./workflowRun.ts";
import { summary } from "./runSummary.ts";
import { loadJob, loadJobDataset, prepareProblem, warmStart, type RunFlags } from "./jobInput.ts";
import { fileInputs } from "../shared/setup/inverseInputs.ts";

/** Writes a run file; a file-system failure becomes a one-line error naming the path. */
async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  try {
    await writeFileAtomic(path, data);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === "ENOTDIR"
        ? "a parent is not a directory"
        : err.code === "EACCES"
          ? "permission denied"
          : err.code === "ENOSPC"
            ? "no space left on device"
            : err.message;
    throw new CliError(1, `cannot write ${path}: ${why}`);
  }
}

function timestamp(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
}

/** Builds the ensemble kernel compute.backend names; backend mistakes are bad input (exit 2). */
async function prepareKernel(job: JobSpec, problem: Problem, io: Io): Promise<EnsembleKernel | undefined> {
  try {
    return await jobKernel(job, problem, (line) => io.stderr.write(`enkf: warning: ${line}\n`));
  } catch (e) {
    if (e instanceof BackendError) throw new CliError(2, e.message);
    throw e;
  }
}

/** Iterates the job with progress, yielding to the event loop now and then so signals get through. */
async function iterate(
  job: JobSpec,
  problem: Problem,
  kernel: EnsembleKernel | undefined,
  flags: RunFlags,
  io: Io,
  cancelled: () => boolean,
  outDir: string,
): Promise<RunResult> {
  const progress = flags.quiet ? null : progressSink(io.stderr, job.stop.maxIterations, job.stop.timeLimit);
  const gen = optimize(
    { problem, optimizer: job.optimizer, stop: job.stop, regularization: problemRegularization(job.problem), kernel },
    { cancelled },
  );
  let lastYield = performance.now();
  // progress.json for `enkf watch`: the latest row, at most once a second
  let lastProgress = 0;
  const history: Record<string, unknown>[] = [];
  try {
    for (;;) {
      const step = await gen.next();
      if (step.done) return step.value;
      progress?.update(step.value);
      history.push({ ...step.value });
      if (performance.now() - lastProgress > 1000) {
        lastProgress = performance.now();
        await writeAtomic(
          join(outDir, "progress.json"),
          toJson({ maxIterations: job.stop.maxIterations, history: history.slice(-1), iterations: history.length }),
        );
      }
      if (performance.now() - lastYield > 50) {
        await new Promise((r) => setImmediate(r));
        lastYield = performance.now();
      }
    }
  } finally {
    progress?.done();
  }
}

async function writeResult(
  job: JobSpec,
  result: RunResult,
  outDir: string,
  backend: string,
  kernel: EnsembleKernel | undefined,
  network?: { model: NetworkModel; dataset: Dataset },
): Promise<void> {
  const t0 = performance.now();
  // where the time went: the kernel's phases, the evaluations on the full splits, the writes, and
  // the rest (the K×K solves, the line search's single forwards, bookkeeping); start-up (the ONNX
  // sessions, the RNG workers loading) came before the first iteration
  const environment = () => {
    const io = (performance.now() - t0) / 1000;
    const t = kernel?.timings;
    const phases = t && {
      rng: t.rng,
      pack: t.pack,
      forward: t.forward,
      gram: t.gram,
      update: t.update,
      evaluation: result.evaluationSeconds ?? 0,
    };
    const measured = phases ? Object.values(phases).reduce((a, b) => a + b, 0) : 0;
    const timings = phases && {
      ...(kernel!.startupSeconds ? { startup: kernel!.startupSeconds } : {}),
      ...phases,
      io,
      other: Math.max(0, result.seconds - measured),
    };
    return {
      node: process.version,
      platform: process.platform,
      arch: process.arch,
      cores: cpus().length,
      backend,
      ...(timings ? { timings } : {}),
    };
  };
  await writeRunFiles(
    result,
    {
      name: job.name,
      spec: job,
      ...(network ? { network: { model: network.model, data: network.dataset } } : {}),
      environment,
    },
    (name, bytes) => writeAtomic(join(outDir, name), bytes),
  );
}

/** plots/*.svg and plots/*.png from the run's result.json (a failure to plot never fails the run). */
async function writePlots(outDir: string, io: Io, quiet: boolean): Promise<void> {
  try {
    const { writeRunPlots } = await import("../shared/report/runReport.ts");
    await writeRunPlots(
      (name) => readFile(join(outDir, name)),
      (name, bytes) => writeAtomic(join(outDir, name), bytes),
    );
  } catch (e) {
    if (!quiet) io.stderr.write(`enkf: warning: could not draw the plots: ${(e as Error).message.split("\n")[0]}\n`);
  }
}

const lambdaOnAws =
  "problem.forward: a lambda forward is invoked by the deployed state machine on AWS (POST " +
  "the job to the deployment's API); on this machine, serve the same function over HTTP and " +
  'use { "type": "http", "url": … }';

export async function runCommand(file: string, flags: RunFlags, io: Io): Promise<number> {
  const job = await loadJob(file);
  const outDir = resolve(flags.out ?? join("runs", `${job.name}-${timestamp(new Date())}`));
  if (!flags.force && existsSync(join(outDir, "result.json"))) {
    throw new CliError(
      2,
      `output directory ${outDir} already holds a run (result.json); choose another --out or pass --force`,
    );
  }
  if (job.compute.shards !== undefined || job.compute.memberBlocks !== undefined || flags.store !== undefined) {
    const copyTo = flags.store !== undefined && flags.out !== undefined ? outDir : undefined;
    const data = await loadJobDataset(job, file);
    const theta0 = await warmStart(job, data, flags);
    const input = data
      ? { dataset: data }
      : job.problem.type === "inverse"
        ? { read: fileInputs(dirname(resolve(file))) }
        : undefined;
    if (job.problem.type === "inverse" && job.problem.forward.type === "lambda") throw new CliError(2, lambdaOnAws);
    return runWorkflow(
      job,
      input,
      {
        store: flags.store,
        endpoint: flags.endpoint,
        outDir,
        ...(copyTo ? { copyTo } : {}),
        ...(theta0 ? { theta0 } : {}),
        quiet: flags.quiet,
        force: flags.force,
      },
      io,
    );
  }
  if (flags.endpoint !== undefined) throw new CliError(2, "--endpoint goes with --store s3://bucket/prefix");
  if (job.problem.type === "inverse" && job.problem.forward.type === "lambda") throw new CliError(2, lambdaOnAws);
  const { problem, dataset } = await prepareProblem(job, file, flags);
  const ensemble = job.optimizer.method === "gradient-descent" ? undefined : job.optimizer.ensembleSize;
  try {
    checkLimits({ ensembleSize: ensemble, parameters: problem.dimension, timeLimit: job.stop.timeLimit });
  } catch (e) {
    if (e instanceof LimitError) throw new CliError(2, e.message);
    throw e;
  }
  const kernel = await prepareKernel(job, problem, io);
  await writeAtomic(join(outDir, "spec.json"), toJson(job));

  // Ctrl-C ends the run after the current iteration. The handler stays until every file is
  // written, so a second Ctrl-C cannot cut the writes short.
  let cancelled = false;
  const onSigint = () => {
    cancelled = true;
  };
  process.on("SIGINT", onSigint);
  let result: RunResult;
  try {
    result = await iterate(job, problem, kernel, flags, io, () => cancelled, outDir);
    // the gpu kernel also names the gpu.js backend that ran it (headlessgl, webasm, cpu, …)
    const gpuBackend = kernel && "backend" in kernel ? `:${String(kernel.backend)}` : "";
    await writeResult(
      job,
      result,
      outDir,
      (kernel?.name ?? "reference") + gpuBackend,
      kernel,
      isNetworkProblem(problem) && dataset ? { model: problem.model, dataset } : undefined,
    );
    await writePlots(outDir, io, flags.quiet);
  } finally {
    process.off("SIGINT", onSigint);
    await kernel?.dispose();
  }
  if (!flags.quiet) io.stdout.write(summary(result, outDir, isNetworkProblem(problem) && dataset !== undefined));
  if (result.status === "failed") throw new CliError(1, `run failed: ${result.message} (partial results in ${outDir})`);
  return result.status === "cancelled" ? 130 : 0;
}
