// `enkf plan <job.json> [--shards N] [--memory MB] [--json]`: what the job would cost on AWS,
// calibrated by timing the job's own shard evaluation here (shared/plan).

import { drawsFor } from "../shared/enkf/laplace.ts";
import { UnsupportedJobError } from "../shared/setup/jobSetup.ts";
import { planJob } from "../shared/plan/calibrate.ts";
import { formatEstimate, type PlanEstimate } from "../shared/plan/costModel.ts";
import { LimitError } from "../shared/spec/limits.ts";
import { WorkflowError } from "../shared/workflow/errors.ts";
import { datasetBytes, formatBytes, jobMemory } from "../shared/plan/memory.ts";
import { networkModel } from "../shared/problems/build.ts";
import { CliError, type Io } from "./io.ts";
import { loadJob, loadJobDataset, prepareProblem } from "./jobInput.ts";
import type { JobSpec } from "../shared/spec/job.ts";
import { optimizeAll } from "../shared/enkf/optimize.ts";
import { estimateCost } from "../shared/plan/costModel.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { runLocalWorkflow } from "../local/engine.ts";
import { fileInputs } from "../shared/setup/inverseInputs.ts";
import { localStore } from "../shared/store/localStore.ts";
import { getJson } from "../shared/store/blobStore.ts";
import { prepareMemberJob } from "../shared/workflow/memberJob.ts";

export interface PlanFlags {
  shards?: number;
  memory: number;
  json: boolean;
}

/**
 * An inverse job's cost is its forward evaluations. The modified EnKF's pilot runs the job's first
 * iterations through the state machine here, on its compute.memberBlocks blocks (default 1), and
 * counts the forward evaluations of every block of every round from the store (θ, its members and
 * the line search's whole ladder, as the machine evaluates them); the estimate extrapolates them
 * to stop.maxIterations and prices the rounds on AWS with the evaluations' time measured here. The
 * EKI baseline runs in process only: its pilot counts and times its iterations there.
 */
async function planInverse(job: JobSpec, file: string, flags: PlanFlags, io: Io): Promise<number> {
  if (job.problem.type !== "inverse") throw new Error("not an inverse job");
  if (job.problem.forward.type === "lambda")
    throw new CliError(
      2,
      "problem.forward: enkf plan times a pilot of the forward here, and a lambda forward runs " +
        "only on AWS; plan the same job with an http forward serving your function",
    );
  const { problem } = await prepareProblem(job, file, { quiet: true, force: false });
  const iterations = job.stop.maxIterations,
    pilot = Math.min(3, iterations);
  const forward = job.problem.forward.type;
  if (job.optimizer.method !== "modified-enkf") {
    if (flags.shards !== undefined)
      throw new CliError(
        2,
        `--shards: enkf plan prices member blocks for the modified EnKF only; method ` +
          `"${job.optimizer.method}" is planned as it runs in process on this machine`,
      );
    if (!flags.json)
      io.stderr.write(
        `calibrating: running the job's first ${pilot} iterations here to count and time its forward evaluations…\n`,
      );
    const r = await optimizeAll({ problem, optimizer: job.optimizer, stop: { ...job.stop, maxIterations: pilot } });
    const perIteration = r.evaluations / Math.max(1, r.iterations),
      secondsPerEvaluation = r.seconds / Math.max(1, r.evaluations);
    const evaluations = Math.round(perIteration * iterations);
    const estimate = {
      kind: "inverse",
      runs: "in process (enkf run)",
      method: job.optimizer.method,
      iterations,
      pilotIterations: r.iterations,
      evaluationsPerIteration: perIteration,
      evaluations,
      secondsPerEvaluation,
      seconds: evaluations * secondsPerEvaluation,
    };
    io.stdout.write(
      flags.json
        ? JSON.stringify(estimate, null, 2) + "\n"
        : `${job.name}: an inverse problem (${forward} forward) with ${job.optimizer.method}, run in ` +
            `process: enkf run ${file}\n` +
            `  about ${evaluations} forward evaluations: ${iterations} iterations × ` +
            `${perIteration.toFixed(1)} (measured over the first ${r.iterations})\n` +
            `  ${(secondsPerEvaluation * 1000).toFixed(2)} ms per evaluation here: about ` +
            `${(evaluations * secondsPerEvaluation).toFixed(1)} s in all\n` +
            (job.optimizer.method !== "gradient-descent"
              ? `  ${job.optimizer.method === "enkf" ? "EKI" : "The sampler"} also runs through the state machine ` +
                `(${job.optimizer.method === "enkf" ? "two rounds per iteration" : "one round per step"} on the ` +
                `member branch); enkf plan prices the modified EnKF's rounds only, so there is no AWS price here.\n`
              : `  ${job.optimizer.method} runs in process only, so there is no AWS price for this method.\n`),
    );
    return 0;
  }
  // an inverse job has no data to shard: it fans its members out in blocks, which --shards then means
  if (flags.shards !== undefined && flags.shards > 40)
    throw new CliError(
      2,
      `--shards ${flags.shards}: an inverse job fans out over member blocks, 1 to 40 (compute.memberBlocks)`,
    );
  if (flags.shards !== undefined)
    io.stderr.write(
      `enkf: --shards ${flags.shards} for an inverse job means its member blocks: planning with ` +
        `compute.memberBlocks = ${flags.shards}\n`,
    );
  const blocks = flags.shards ?? job.compute.memberBlocks ?? 1;
  if (!flags.json)
    io.stderr.write(
      `calibrating: running the job's first ${pilot} iterations through the state machine here ` +
        `(${blocks} member block${blocks === 1 ? "" : "s"}) to count and time its forward ` +
        `evaluations…\n`,
    );
  const dir = mkdtempSync(join(tmpdir(), "enkf-plan-"));
  try {
    const store = localStore(dir);
    // its rounds are kept: the pilot counts every block's outputs
    await prepareMemberJob(
      store,
      {
        ...job,
        // the Laplace posterior's rounds come once, after the last iteration: counted below, not extrapolated
        problem: { ...job.problem, posterior: "none" },
        stop: { ...job.stop, maxIterations: pilot },
        compute: { ...job.compute, memberBlocks: blocks, keepRounds: true },
      },
      fileInputs(dirname(resolve(file))),
    );
    const t0 = performance.now();
    await runLocalWorkflow({ job: { store: dir }, maxConcurrency: Math.min(blocks, job.compute.maxConcurrency) });
    const seconds = (performance.now() - t0) / 1000;
    const result = (await getJson(store, "result.json")) as { iterations: number };
    // every block's stored outputs: rows × M float64s
    const perBlock: number[] = [];
    let rounds = 0;
    for (const key of await store.list("rounds/")) {
      if (/\/blocks\/000000\.f64$/.test(key)) rounds++;
      if (/\/blocks\/\d{6}\.f64$/.test(key)) perBlock.push((await store.get(key)).length / 8 / problem.outputSize);
    }
    const points = perBlock.reduce((a, b) => a + b, 0);
    const done = Math.max(1, result.iterations);
    const roundsPerIteration = rounds / done,
      pointsPerRound = points / Math.max(1, rounds);
    const secondsPerEvaluation = seconds / Math.max(1, points);
    const laplaceRounds =
      job.problem.posterior === "none" ? 0 : drawsFor(job.optimizer.ensembleSize, job.problem.parameters.length);
    const totalRounds = Math.ceil(iterations * roundsPerIteration) + 1 + laplaceRounds;
    const evaluations =
      Math.round((totalRounds - laplaceRounds) * pointsPerRound) + laplaceRounds * (job.optimizer.ensembleSize + 1);
    const largestBlock = Math.max(...perBlock, 0);
    const aws = estimateCost({
      iterations,
      roundsPerIteration,
      roundsSource: `the pilot's ${rounds} rounds over ${result.iterations} iterations`,
      finalRounds: laplaceRounds,
      ladderRungs: 0,
      shards: blocks,
      ensembleSize: job.optimizer.ensembleSize,
      maxConcurrency: job.compute.maxConcurrency,
      memoryMb: flags.memory,
      localShardSeconds: largestBlock * secondsPerEvaluation,
      localReduceSeconds: 0.01,
    });
    const estimate = {
      kind: "inverse",
      runs: "the state machine (enkf run with compute.memberBlocks, enkf serve, AWS)",
      method: job.optimizer.method,
      iterations,
      pilotIterations: result.iterations,
      memberBlocks: blocks,
      rounds: totalRounds,
      roundsPerIteration,
      evaluationsPerRound: pointsPerRound,
      evaluationsPerBlock: { min: Math.min(...perBlock), max: largestBlock },
      evaluations,
      evaluationsPerIteration: evaluations / iterations,
      secondsPerEvaluation,
      seconds: evaluations * secondsPerEvaluation,
      aws,
    };
    io.stdout.write(
      flags.json
        ? JSON.stringify(estimate, null, 2) + "\n"
        : `${job.name}: an inverse problem (${forward} forward) with the modified EnKF on ${blocks} ` +
            `member block${blocks === 1 ? "" : "s"}\n` +
            `  about ${evaluations} forward evaluations: ${totalRounds - laplaceRounds} rounds × ` +
            `${pointsPerRound.toFixed(1)} (θ, K = ${job.optimizer.ensembleSize} members and the line ` +
            `search's rungs), ${Math.min(...perBlock)}–${largestBlock} per block and round` +
            (laplaceRounds
              ? `, then the Laplace posterior's ${laplaceRounds} × ${job.optimizer.ensembleSize + 1}`
              : "") +
            `\n` +
            `  measured over the first ${result.iterations} iterations (${rounds} rounds): ` +
            `${(secondsPerEvaluation * 1000).toFixed(2)} ms per evaluation here, about ` +
            `${(evaluations * secondsPerEvaluation).toFixed(1)} s of forwards in all\n` +
            formatEstimate(
              aws,
              `on AWS (${blocks} evaluate task${blocks === 1 ? "" : "s"} per ` +
                `round${forward === "http" ? "; your http service's own cost not included" : ""})`,
            ),
    );
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function planCommand(file: string, flags: PlanFlags, io: Io): Promise<number> {
  const job = await loadJob(file);
  if (job.problem.type === "inverse") return planInverse(job, file, flags, io);
  const network = job.problem.type === "classification" || job.problem.type === "regression";
  if (job.optimizer.method !== "modified-enkf" || !network) {
    // nothing for AWS to run: say where the job runs instead (exit 0: this is an answer, not an error)
    const what = network
      ? `method "${job.optimizer.method}"`
      : `problem "${job.problem.type}" is built in (no data) and`;
    const where = network
      ? `the AWS workflow runs the modified EnKF only; this job runs in process on this machine: enkf run ${file}`
      : `runs in process on this machine, usually in seconds: enkf run ${file}`;
    io.stdout.write(
      `${job.name}: ${what} ${where}\nnothing to estimate on AWS (enkf plan prices the workflow's network jobs).\n`,
    );
    return 0;
  }
  const dataset = (await loadJobDataset(job, file))!;
  const shards = flags.shards ?? job.compute.shards ?? 4;
  if (!flags.json)
    io.stderr.write(
      `calibrating: timing one shard's evaluate task here (${shards} shards, K = ` +
        `${job.optimizer.ensembleSize}) and running the job's first iterations to count its ` +
        `rounds…\n`,
    );
  let estimate: PlanEstimate;
  try {
    estimate = await planJob(job, dataset, shards, flags.memory);
  } catch (e) {
    if (
      e instanceof LimitError ||
      e instanceof WorkflowError ||
      e instanceof UnsupportedJobError ||
      e instanceof RangeError
    )
      throw new CliError(2, e.message);
    throw e;
  }
  // what the job needs on this machine (enkf run, enkf serve refuses a job above its --memory)
  const here = jobMemory({
    model: networkModel((job.problem as Extract<JobSpec["problem"], { type: "classification" }>).model, dataset),
    ensembleSize: job.optimizer.ensembleSize,
    shards,
    workers: Math.min(availableParallelism(), shards),
    batchRows: Math.min(job.optimizer.batchSize ?? dataset.train.rows, dataset.train.rows),
    dataBytes: datasetBytes(dataset),
  });
  const local = { peakBytes: here.bytes, parts: here.parts.map((p) => ({ what: p.what, bytes: Math.round(p.bytes) })) };
  io.stdout.write(
    flags.json
      ? JSON.stringify({ ...estimate, localMemory: local }, null, 2) + "\n"
      : formatEstimate(
          estimate,
          `${job.name}: ${job.stop.maxIterations} iterations, ${shards} shards, ${flags.memory} MB, ` +
            `on AWS (estimate, ${new Date().toISOString().slice(0, 10)})`,
        ) +
          `peak memory on this machine: about ${formatBytes(here.bytes)} ` +
          `(${here.parts.map((p) => `${p.what}: ${formatBytes(p.bytes)}`).join("; ")})\n`,
  );
  return 0;
}
