// Calibrates the cost model on this machine: prepares the job in a temporary store, runs shard 0's
// evaluate task three times (the first warms the caches, the next two are timed, as a warm Lambda
// function would run them), times a K×K solve for the reducer, and runs the job's first
// iterations in process to observe its rounds per iteration (pilot.ts).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Dataset } from "../data/types.ts";
import { decodePartial } from "../distributed/partialCodec.ts";
import { fanInOf } from "../distributed/reductionTree.ts";
import { PartialSum } from "../distributed/shardPartial.ts";
import { reductionPlan, reductionRefusal } from "./reductionPlan.ts";
import { solveSymmetric } from "../math/linalg.ts";
import type { JobSpec } from "../spec/job.ts";
import { estimateCost, type PlanEstimate } from "./costModel.ts";
import { keys } from "../workflow/jobStore.ts";
import { localStore } from "../store/localStore.ts";
import { evaluateStep, initStep } from "../workflow/steps.ts";
import { prepareJob } from "../workflow/shardJob.ts";
import { WorkerCache } from "../distributed/workerCache.ts";
import { noCrash } from "../workflow/hooks.ts";
import { networkJob } from "../setup/jobSetup.ts";
import { lineSearchParams } from "../enkf/lineSearch.ts";
import { pilotRounds, type PilotLimits } from "./pilot.ts";

/** The deployed reduce and evaluate functions' time limit (infra/stack.ts's default). */
export const REDUCE_TIMEOUT_S = 300;

export interface Calibration {
  localShardSeconds: number;
  /** decoding one shard partial and adding it to the running sum; the K×K solve */
  partialSeconds: number;
  solveSeconds: number;
  /** the kernel's own phases in the timed task (RNG, packing, forward, Gram, update), from its partial */
  kernelSeconds: number;
}

/** The AWS estimate for a modified-EnKF network job on `shards` shards at `memoryMb`, calibrated
 *  here: a shard's evaluate task timed, and the rounds per iteration observed over a pilot of the
 *  job's first iterations (pilot.ts). */
export async function planJob(
  spec: JobSpec,
  dataset: Dataset,
  shards: number,
  memoryMb: number,
  limits?: PilotLimits,
): Promise<PlanEstimate> {
  const job = networkJob(spec);
  const k = job.optimizer.ensembleSize;
  const cal = await calibrate({ ...spec, compute: { ...spec.compute, shards } }, dataset, shards, k);
  // the round's reduction: refused here when its reducer cannot fit the function
  const input = {
    k,
    shards,
    precision: spec.compute.partialPrecision,
    fanIn: fanInOf(k, spec.compute.partialPrecision, spec.compute.reduceFanIn),
    partialSeconds: cal.partialSeconds,
    solveSeconds: cal.solveSeconds,
    memoryMb,
    timeoutSeconds: REDUCE_TIMEOUT_S,
  };
  const reduction = reductionPlan(input);
  const refusal = reductionRefusal(reduction, input);
  if (refusal) throw refusal;
  const pilot = await pilotRounds(job, dataset, limits);
  const ls = lineSearchParams(job.optimizer.lineSearch);
  return estimateCost({
    iterations: pilot.finished ? pilot.iterations : spec.stop.maxIterations,
    roundsPerIteration: pilot.roundsPerIteration,
    roundsSource: pilot.finished
      ? `the whole run, run here first: it ends after ${pilot.iterations} iterations`
      : `observed over the job's first ${pilot.iterations} iterations, run here first in ${pilot.seconds.toFixed(1)} s`,
    ladderRungs: ls ? ls.maxBacktracks + 1 : 1,
    shards,
    ensembleSize: k,
    memoryMb,
    localShardSeconds: cal.localShardSeconds,
    localReduceSeconds: reduction.reduceSeconds,
    reduction,
    // above 40 shards a round fans out through the Distributed Map, all at once
    maxConcurrency: shards > 40 ? shards : spec.compute.maxConcurrency,
  });
}

export async function calibrate(spec: unknown, dataset: Dataset, shards: number, k: number): Promise<Calibration> {
  const dir = mkdtempSync(join(tmpdir(), "enkf-plan-"));
  try {
    const store = localStore(dir);
    await prepareJob(store, spec, dataset, shards);
    // a warm worker, as a Lambda function's module is after its first task
    const worker = { cache: new WorkerCache(), warn: () => {}, crash: noCrash };
    await initStep(store, worker);
    const times: number[] = [];
    let kernelSeconds = Infinity;
    for (let i = 0; i < 3; i++) {
      // forced: evaluate would skip a shard whose partial is already whole
      const t0 = performance.now();
      await evaluateStep(store, 0, 0, worker, { force: true });
      times.push((performance.now() - t0) / 1000);
      const t = decodePartial(await store.get(keys.partial(0, 0))).timings;
      if (i > 0 && t)
        kernelSeconds = Math.min(
          kernelSeconds,
          t.reduce((a, b) => a + b, 0),
        );
    }
    const localShardSeconds = Math.min(times[1], times[2]);
    // the reducer: the shard's partial decoded and added to a running sum (best of 3), a K×K solve
    const bytes = await store.get(keys.partial(0, 0));
    let partialSeconds = Infinity;
    const sum = new PartialSum(k);
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      sum.add(decodePartial(bytes));
      partialSeconds = Math.min(partialSeconds, (performance.now() - t0) / 1000);
    }
    const a = new Float64Array(k * k),
      b = new Float64Array(k).fill(1);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) a[i * k + j] = (i === j ? k : 0) + 1 / (1 + i + j);
    const t0 = performance.now();
    solveSymmetric(a, b, k);
    const solveSeconds = (performance.now() - t0) / 1000;
    return { localShardSeconds, partialSeconds, solveSeconds, kernelSeconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
