// `enkf plan <job.json> [--shards N] [--memory MB] [--json]`: what the job would cost on AWS,
// calibrated by timing the job's own shard evaluation here (shared/plan).

import { UnsupportedJobError } from "../shared/setup/jobSetup.ts";
import { planJob } from "../shared/plan/calibrate.ts";
import { formatEstimate, type PlanEstimate } from "../shared/plan/costModel.ts";
import { LimitError } from "../shared/spec/limits.ts";
import { WorkflowError } from "../shared/workflow/steps.ts";
import { CliError, type Io } from "./io.ts";
import { loadJob, loadJobDataset, prepareProblem } from "./runCommand.ts";
import type { JobSpec } from "../shared/spec/job.ts";
import { optimizeAll } from "../shared/enkf/optimize.ts";

export interface PlanFlags {
  shards?: number;
  memory: number;
  json: boolean;
}

/**
 * An inverse job runs in process: its cost is its forward evaluations. A pilot of its first
 * iterations here counts them (θ and its members, line-search trials, redrawn ensembles) and
 * times them; the estimate extrapolates both to stop.maxIterations.
 */
async function planInverse(job: JobSpec, file: string, flags: PlanFlags, io: Io): Promise<number> {
  const { problem } = await prepareProblem(job, file, { quiet: true, force: false });
  const iterations = job.stop.maxIterations, pilot = Math.min(3, iterations);
  if (!flags.json) io.stderr.write(`calibrating: running the job's first ${pilot} iterations here to count and time its forward evaluations…\n`);
  const r = await optimizeAll({ problem, optimizer: job.optimizer, stop: { ...job.stop, maxIterations: pilot } });
  const done = Math.max(1, r.iterations);
  const perIteration = r.evaluations / done, secondsPerEvaluation = r.seconds / Math.max(1, r.evaluations);
  const evaluations = Math.round(perIteration * iterations);
  const estimate = { kind: "inverse", runs: "in process (enkf run)", method: job.optimizer.method, iterations, pilotIterations: r.iterations, evaluationsPerIteration: perIteration, evaluations, secondsPerEvaluation, seconds: evaluations * secondsPerEvaluation };
  const forward = job.problem.type === "inverse" ? job.problem.forward.type : "";
  io.stdout.write(flags.json ? JSON.stringify(estimate, null, 2) + "\n"
    : `${job.name}: an inverse problem (${forward} forward) with ${job.optimizer.method}, run in process: enkf run ${file}\n` +
      `  about ${evaluations} forward evaluations: ${iterations} iterations × ${perIteration.toFixed(1)} (measured over the first ${r.iterations}: θ, the ensemble, line-search trials)\n` +
      `  ${(secondsPerEvaluation * 1000).toFixed(2)} ms per evaluation here: about ${(evaluations * secondsPerEvaluation).toFixed(1)} s in all\n` +
      `  the state machine and AWS do not run inverse jobs yet, so there is no AWS price.\n`);
  return 0;
}

export async function planCommand(file: string, flags: PlanFlags, io: Io): Promise<number> {
  const job = await loadJob(file);
  if (job.problem.type === "inverse") return planInverse(job, file, flags, io);
  const network = job.problem.type === "classification" || job.problem.type === "regression";
  if (job.optimizer.method !== "modified-enkf" || !network) {
    // nothing for AWS to run: say where the job runs instead (exit 0: this is an answer, not an error)
    const what = network ? `method "${job.optimizer.method}"` : `problem "${job.problem.type}" is built in (no data) and`;
    const where = network
      ? `the AWS workflow runs the modified EnKF only; this job runs in process on this machine: enkf run ${file}`
      : `runs in process on this machine, usually in seconds: enkf run ${file}`;
    io.stdout.write(`${job.name}: ${what} ${where}\nnothing to estimate on AWS (enkf plan prices the workflow's network jobs).\n`);
    return 0;
  }
  const dataset = (await loadJobDataset(job, file))!;
  const shards = flags.shards ?? job.compute.shards ?? 4;
  if (!flags.json) io.stderr.write(`calibrating: timing one shard's evaluate task here (${shards} shards, K = ${job.optimizer.ensembleSize}) and running the job's first iterations to count its rounds…\n`);
  let estimate: PlanEstimate;
  try {
    estimate = await planJob(job, dataset, shards, flags.memory);
  } catch (e) {
    if (e instanceof LimitError || e instanceof WorkflowError || e instanceof UnsupportedJobError || e instanceof RangeError) throw new CliError(2, e.message);
    throw e;
  }
  io.stdout.write(flags.json ? JSON.stringify(estimate, null, 2) + "\n" : formatEstimate(estimate, `${job.name}: ${job.stop.maxIterations} iterations, ${shards} shards, ${flags.memory} MB, on AWS (estimate, ${new Date().toISOString().slice(0, 10)})`));
  return 0;
}
