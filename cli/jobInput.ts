// Reading a job for the enkf commands: the job file parsed and validated, its dataset loaded and checked
// against the network, a warm start resolved (--init-from, problem.initial), the problem built; every
// mistake in the input is a one-line CliError (exit 2).

import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { DataError } from "../shared/data/errors.ts";
import { loadDataset } from "../shared/data/load.ts";
import type { Dataset } from "../shared/data/types.ts";
import { parseJobText } from "../shared/spec/parse.ts";
import { type JobSpec } from "../shared/spec/job.ts";
import type { Problem } from "../shared/problems/types.ts";
import { resolveWarmStart, WarmStartError, type ModelSource } from "../shared/predict/warmStart.ts";
import { checkNetworkFits, ModelDataError, networkModel } from "../shared/problems/build.ts";
import { trainedModel } from "./predictCommand.ts";
import { CliError } from "./io.ts";
import { jobProblem } from "../shared/setup/jobSetup.ts";
import { readChampion } from "../shared/service/models.ts";
import { fileInputs, loadForward, loadObservations } from "../shared/setup/inverseInputs.ts";
import { InverseProblemError } from "../shared/problems/inverse.ts";
import { localStore } from "../shared/store/localStore.ts";

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
export async function warmStart(
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
