// What a job must fit before the service takes it: the memory budget (its peak estimated by
// shared/plan/memory.ts against enkf serve's --memory), and the dry run, which calibrates the
// AWS estimate on a place of its own under --max-jobs, through the service's planner (enkf serve
// runs it on a thread of its own, bounded in time and heap: local/dryRun.ts).

import type { Dataset } from "../data/types.ts";
import { datasetBytes, formatBytes, jobMemory } from "../plan/memory.ts";
import { networkModel } from "../problems/build.ts";
import type { JobSpec } from "../spec/job.ts";
import { busy, invalid } from "./errors.ts";
import type { Planner, ServiceOptions } from "./ports.ts";
import { checkFits, jobRefused } from "./submission.ts";

/** compute.shards, or the service's default (at most one per training row). */
export function jobShards(opts: ServiceOptions, spec: JobSpec, dataset: Dataset): number {
  return spec.compute.shards ?? Math.min(opts.shards ?? 4, Math.max(1, dataset.train.rows));
}

/**
 * Refuses a network job whose estimated peak memory is over the server's budget, naming the
 * memory it needs, the budget and the fields to change. `workers`: the evaluate threads holding a
 * kernel at once (default: the server's, up to the job's shards).
 */
export function checkMemory(opts: ServiceOptions, spec: JobSpec, dataset: Dataset, workers?: number): void {
  const m = opts.memory;
  const p = spec.problem;
  if (!m || (p.type !== "classification" && p.type !== "regression") || !("ensembleSize" in spec.optimizer)) return;
  const shards = jobShards(opts, spec, dataset);
  const est = jobMemory({
    model: networkModel(p.model, dataset),
    ensembleSize: spec.optimizer.ensembleSize,
    shards,
    workers: workers ?? Math.min(m.workers, shards),
    batchRows: Math.min(
      ("batchSize" in spec.optimizer ? spec.optimizer.batchSize : undefined) ?? dataset.train.rows,
      dataset.train.rows,
    ),
    dataBytes: datasetBytes(dataset),
  });
  if (est.bytes <= m.budgetBytes) return;
  const largest = [...est.parts]
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 2)
    .map((x) => `${x.what}: ${formatBytes(x.bytes)}`)
    .join("; ");
  const change = "lower it, or raise the budget";
  throw invalid(
    `the job would need about ${formatBytes(est.bytes)} of memory at its peak (${largest}), ` +
      `over this server's budget of ${formatBytes(m.budgetBytes)} (enkf serve --memory)`,
    [
      { path: "problem.model", message: `${change}: a smaller network` },
      { path: "optimizer.ensembleSize", message: `${change}: a smaller K` },
      { path: "optimizer.batchSize", message: `${change}: a smaller batch` },
    ],
    "over_memory_budget",
  );
}

/** A network job's AWS estimate, calibrated here: it must fit the memory, and it takes a place while it runs. */
export async function dryRun(
  opts: ServiceOptions,
  spec: JobSpec,
  dataset: () => Promise<Dataset>,
  memoryMb: number,
): Promise<unknown> {
  if (spec.optimizer.method !== "modified-enkf")
    throw invalid("the AWS workflow runs the modified EnKF", [
      { path: "optimizer.method", message: "use modified-enkf" },
    ]);
  if (spec.problem.type === "inverse")
    throw invalid(
      "an inverse job's estimate times a pilot of its forward model, which enkf plan runs on " +
        "your machine (enkf plan job.json); the service's dry run prices network jobs",
      [{ path: "problem.type", message: "no dry run over HTTP" }],
    );
  const data = await dataset();
  checkFits(spec, data);
  const shards = jobShards(opts, spec, data);
  // the calibration runs the job's kernel in one thread
  checkMemory(opts, spec, data, 1);
  const slot = opts.engine.reserve ? opts.engine.reserve() : undefined;
  if (slot === null)
    throw busy("this server already has as many jobs and dry runs as it takes (--max-jobs); wait for one to finish");
  try {
    const planner =
      opts.planner ?? (async (...a: Parameters<Planner>) => (await import("../plan/calibrate.ts")).planJob(...a));
    return { dryRun: true, shards, memoryMb, estimate: await planner(spec, data, shards, memoryMb).catch(jobRefused) };
  } finally {
    slot?.release();
  }
}
