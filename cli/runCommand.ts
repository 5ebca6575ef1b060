// `enkf run <job.json> [--out DIR] [--quiet] [--force] [--store LOCATION [--endpoint URL]]`:
// validate the job, run it in-process with progress, and write spec.json, result.json, theta.npy
// and history.csv into DIR. A job with compute.shards, or a --store, runs through the job's state
// machine instead (workflowRun.ts).

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { cpus } from "node:os";
import { dirname, join, resolve } from "node:path";
import { DataError } from "../shared/data/errors.ts";
import { loadDataset } from "../shared/data/load.ts";
import type { Dataset } from "../shared/data/types.ts";
import { optimize } from "../shared/enkf/optimize.ts";
import type { RunResult } from "../shared/enkf/types.ts";
import { toJson } from "../shared/output/history.ts";
import { writeRunFiles } from "../shared/output/runFiles.ts";
import { parseJobText } from "../shared/spec/parse.ts";
import { problemRegularization, type JobSpec } from "../shared/spec/job.ts";
import type { Problem } from "../shared/problems/types.ts";
import { isNetworkProblem } from "../shared/problems/network.ts";
import type { NetworkModel } from "../shared/models/model.ts";
import { resolveWarmStart, WarmStartError, type ModelSource } from "../shared/predict/warmStart.ts";
import { checkNetworkFits, ModelDataError, networkModel } from "../shared/problems/build.ts";
import { trainedModel } from "./predictCommand.ts";
import { writeAtomic as writeFileAtomic } from "./files.ts";
import { progressSink } from "./progress.ts";
import { CliError, type Io } from "./io.ts";
import { BackendError } from "../shared/kernels/create.ts";
import { jobKernel, jobProblem } from "../shared/setup/jobSetup.ts";
import { checkLimits, LimitError } from "../shared/spec/limits.ts";
import type { EnsembleKernel } from "../shared/kernels/types.ts";
import { runWorkflow } from "./workflowRun.ts";
import { readChampion } from "../shared/service/models.ts";
import { fileInputs, loadForward, loadObservations } from "../shared/setup/inverseInputs.ts";
import { InverseProblemError } from "../shared/problems/inverse.ts";
import { localStore } from "../shared/store/localStore.ts";

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

export interface RunFlags {
  out?: string;
  quiet: boolean;
  force: boolean;
  /** run through the state machine with this store (a directory or s3://bucket/prefix) */
  store?: string;
  /** S3-compatible endpoint for an s3:// store */
  endpoint?: string;
  /** warm start from this run directory or enkf serve job id (runs/service) */
  initFrom?: string;
}

/**
 * A warm start's θ₀: --init-from, or problem.initial (fromJob, or fromModel's champion) read from enkf serve's
 * runs/service.
 */
async function warmStart(
  job: JobSpec,
  dataset: Dataset | undefined,
  flags: RunFlags,
): Promise<Float64Array | undefined> {
  const p = job.problem;
  const network = p.type === "classification" || p.type === "regression";
  if (!network || !dataset) {
    if (flags.initFrom !== undefined)
      throw new CliError(2, `--init-from warm-starts a network; problem "${p.type}" is built in`);
    return undefined;
  }
  const source: ModelSource = {
    async champion(name, field) {
      const c = await readChampion(localStore("runs/service"), name);
      const why =
        c === undefined
          ? `no model named "${name}" in runs/service (enkf serve's store)`
          : `model "${name}" has no champion yet`;
      if (!c) throw new CliError(2, `${field}: ${why}`);
      return c;
    },
    async trained(from) {
      const { card, theta, dir } = await trainedModel(from, "runs/service");
      return { card, theta, where: dir };
    },
  };
  try {
    return (
      await resolveWarmStart(
        p.initial,
        flags.initFrom,
        { model: networkModel(p.model, dataset), data: dataset },
        source,
      )
    )?.theta;
  } catch (e) {
    if (e instanceof WarmStartError) throw new CliError(2, e.message);
    throw e;
  }
}

function timestamp(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
}

export async function loadJob(path: string): Promise<JobSpec> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "no such file"
        : code === "EISDIR"
          ? "it is a directory"
          : code === "EACCES"
            ? "permission denied"
            : (e as Error).message;
    throw new CliError(2, `cannot read job file ${path}: ${why}`);
  }
  const parsed = parseJobText(text);
  if (!parsed.ok) {
    const lines = parsed.problems.map((p) => `  ${p.path || "(document)"}: ${p.message}`);
    throw new CliError(2, `invalid job spec ${path}:\n${lines.join("\n")}`);
  }
  return parsed.job;
}

/** Loads the dataset of a network problem (paths relative to the job file); data errors are bad input (exit 2). */
export async function loadJobDataset(job: JobSpec, file: string): Promise<Dataset | undefined> {
  if (job.problem.type !== "classification" && job.problem.type !== "regression") return undefined;
  let dataset: Dataset;
  try {
    dataset = await loadDataset(job.problem.data, job.problem.type, dirname(resolve(file)));
  } catch (e) {
    if (e instanceof DataError) throw new CliError(2, e.message);
    throw e;
  }
  // what only the data can tell (a CNN's input shape, the loss for the labels) is still the job's mistake
  try {
    checkNetworkFits(job.problem, dataset);
  } catch (e) {
    if (e instanceof ModelDataError) throw new CliError(2, `invalid job spec ${file}:\n  ${e.path}: ${e.message}`);
    throw e;
  }
  return dataset;
}

/** Loads the data a network problem names and builds the problem. */
export async function prepareProblem(
  job: JobSpec,
  file: string,
  flags: RunFlags,
): Promise<{ problem: Problem; dataset?: Dataset }> {
  const dataset = await loadJobDataset(job, file);
  const theta0 = await warmStart(job, dataset, flags);
  try {
    const base = dirname(resolve(file));
    const read = fileInputs(base);
    const inverse =
      job.problem.type === "inverse"
        ? { observations: await loadObservations(job.problem, read), forward: await loadForward(job.problem, read) }
        : undefined;
    return { problem: jobProblem(job, dataset, theta0, inverse), ...(dataset ? { dataset } : {}) };
  } catch (e) {
    // a mistake in the problem's definition (observations, bounds, names) is bad input
    if (e instanceof InverseProblemError) throw new CliError(2, `invalid problem in ${file}: ${e.message}`);
    throw new CliError(1, `cannot build problem: ${(e as Error).message}`);
  }
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

function summary(result: RunResult, outDir: string, model: boolean): string {
  const rd = result.metrics.relativeDistance;
  const acc = result.metrics.testAccuracy;
  return (
    `${result.status}: ${result.message}\n` +
    `  iterations ${result.iterations}, objective ${result.objective.toExponential(6)}` +
    (rd !== undefined ? `, relative distance ${rd.toExponential(3)}` : "") +
    (acc !== undefined ? `, test accuracy ${acc.toFixed(4)}` : "") +
    `, ${result.evaluations} forward evaluations, ${result.seconds.toFixed(2)} s\n` +
    (result.parameters
      ? `  parameters: ${Object.entries(result.parameters)
          .map(([k, v]) => `${k} ${v.toPrecision(6)}`)
          .join(", ")}\n`
      : "") +
    bestLine(result) +
    `  wrote ${outDir}/{${wroteFiles(result.last !== undefined, model)},spec.json,plots/}\n`
  );
}

/** The run files the wrote line lists: result.json, theta.npy, theta-last.npy and model.json where written,
 *  history.csv. */
export const wroteFiles = (last: boolean, model: boolean) =>
  [
    "result.json",
    "theta.npy",
    ...(last ? ["theta-last.npy"] : []),
    ...(model ? ["model.json"] : []),
    "history.csv",
  ].join(",");

/** Which θ theta.npy holds, when a validation split chose it. */
export function bestLine(result: {
  iterations: number;
  best?: { iteration: number; metrics: Record<string, number> };
  last?: { metrics: Record<string, number> };
}): string {
  if (!result.best) return "";
  const m = result.best.metrics;
  const score =
    m.validationAccuracy !== undefined
      ? `validation accuracy ${m.validationAccuracy.toFixed(4)}`
      : `validation loss ${m.validationLoss?.toExponential(4)}`;
  return result.last
    ? `  theta.npy: the best θ, iteration ${result.best.iteration} (${score}); theta-last.npy: ` +
        `iteration ${result.iterations}` +
        (result.last.metrics.testAccuracy !== undefined
          ? ` (test accuracy ${result.last.metrics.testAccuracy.toFixed(4)})`
          : "") +
        "\n"
    : `  theta.npy: the last θ is the best one (${score})\n`;
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
