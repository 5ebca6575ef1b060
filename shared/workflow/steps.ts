// The workflow's steps, one per task of the state machine, for every kind of job (workflowJob.ts):
// Init starts the run, Evaluate answers one item of a round (a data shard or a member block),
// Reduce tells the process the round's answer through the run loop and writes the next round's
// state and plan, Finalize writes the result. Each reads what it needs from the job's store and
// writes its output back; what it returns is small and independent of K, n and the data size.
// The Lambda handlers and the local engine call these same functions (handlers.ts).

import { advanceRun, finishRun, startRun, type RunState } from "../enkf/runLoop.ts";
import type { ProcessState } from "../enkf/process.ts";
import { writeRunFiles } from "../output/runFiles.ts";
import type { BlobStore } from "../store/blobStore.ts";
import type { Branch, Worker } from "./fanOut.ts";
import type { TreeLevel } from "../distributed/reductionTree.ts";
import { loadPlan, loadState, pruneBefore, pruneRounds, savePlan, saveState, stateRounds } from "./jobStore.ts";
import { workflowJob, type WorkflowJob } from "./workflowJob.ts";

/** A round's place in the run: what the cursor carries between tasks. */
export interface RoundPoint {
  round: number;
  done: boolean;
  /** the branch and the round's items (shard or block indices) */
  branch: Branch;
  items: number[];
  /** the reduction tree's levels between the items and the reducer (data shards above the fan-in) */
  tree: TreeLevel[];
  /** iterations finished and the last one's Φ (for progress) */
  iterations?: number;
  objective?: number;
}

const itemsOf = (count: number) => Array.from({ length: count }, (_, i) => i);

/** Writes round r's state (unless `written`) and, while the run goes on, its plan; says where the run stands. */
async function commitRound(
  store: BlobStore,
  round: number,
  run: RunState<ProcessState>,
  ask: unknown,
  job: WorkflowJob,
  written = false,
): Promise<RoundPoint> {
  if (!written) await saveState(store, round, run);
  if (ask !== null) await savePlan(store, round, ask);
  const { history } = run.process.progress;
  const last = history[history.length - 1];
  return {
    round,
    done: ask === null,
    branch: job.fanOut.branch,
    items: itemsOf(job.fanOut.items),
    tree: job.fanOut.tree ?? [],
    iterations: history.length,
    ...(last && Number.isFinite(last.objective) ? { objective: last.objective } : {}),
  };
}

/**
 * The Init state: θ₀ (a warm start's, or the job's initialization), a warm start scored as
 * iteration 0, and round 0's state and plan.
 *
 * @example
 * ```ts
 * const at = await initStep(openStore("s3://bucket/jobs/a"), worker); // { round: 0, items: [0, 1, 2, 3], … }
 * ```
 */
export async function initStep(store: BlobStore, worker: Worker): Promise<RoundPoint> {
  const job = await workflowJob(store, worker);
  const run = await startRun(job.process, await job.theta0(), job.context);
  return commitRound(store, 0, run, job.process.ask(run.process), job);
}

/** One item's task in round r: its share of the round's ask, stored. Idempotent. */
export async function evaluateStep(
  store: BlobStore,
  round: number,
  item: number,
  worker: Worker,
  opts: { force?: boolean } = {},
): Promise<void> {
  const job = await workflowJob(store, worker);
  await job.fanOut.evaluate(round, item, await loadPlan(store, round), opts);
}

/** Node `node` of level `level` of round r's reduction tree: its children's sum, stored. Idempotent
 *  (the same sum, bit for bit). */
export async function combineStep(
  store: BlobStore,
  round: number,
  level: number,
  node: number,
  worker: Worker,
): Promise<void> {
  const job = await workflowJob(store, worker);
  if (!job.fanOut.combine)
    throw new Error(
      `round ${round}: a reduction tree is for data shards; this job's round is on the ${job.fanOut.branch} branch`,
    );
  await job.fanOut.combine(round, level, node);
}

/** A lambda forward's block: the request the state machine invokes the user's function with. */
export async function requestStep(store: BlobStore, round: number, item: number, worker: Worker): Promise<unknown> {
  const job = await workflowJob(store, worker);
  if (!job.fanOut.request)
    throw new Error(
      `round ${round}: a block request is for a lambda forward; this job's round is on the ${job.fanOut.branch} branch`,
    );
  return job.fanOut.request(round, item, await loadPlan(store, round));
}

/** A lambda forward's block: the function's answer (null when the invocation failed) stored. */
export async function storeStep(
  store: BlobStore,
  round: number,
  item: number,
  outputs: unknown,
  worker: Worker,
): Promise<void> {
  const job = await workflowJob(store, worker);
  if (!job.fanOut.store)
    throw new Error(
      `round ${round}: a block's outputs come from a lambda forward; this job's round is on the ` +
        `${job.fanOut.branch} branch`,
    );
  await job.fanOut.store(round, item, await loadPlan(store, round), outputs);
}

/**
 * Reduces round r: the items' shares become the answer the run loop tells the process; writes
 * round r+1's state and plan. Idempotent: a rerun keeps the state an earlier run wrote (its
 * history holds that run's clock) and writes the plan again, byte for byte the same.
 */
export async function reduceStep(
  store: BlobStore,
  round: number,
  elapsedSeconds: number,
  worker: Worker,
): Promise<RoundPoint> {
  const job = await workflowJob(store, worker);
  const written = await loadState(store, round + 1).catch(() => null);
  // round r's statistics are spent once round r + 1 is committed (kept with compute.keepRounds)
  const prune = async (at: RoundPoint) => {
    if (!job.spec.compute.keepRounds) await pruneBefore(store, round);
    return at;
  };
  if (written) {
    worker.crash("reduce", round);
    return prune(await commitRound(store, round + 1, written, job.process.ask(written.process), job, true));
  }
  const plan = await loadPlan(store, round);
  const before = await loadState(store, round);
  const { answer, timings } = await job.fanOut.answer(round, plan);
  const { run } = await advanceRun(job.process, before, answer, elapsedSeconds, job.context);
  // the items' phases and the reducer's reads, summed over the run (for the report)
  const summed: Record<string, number> = { ...(before.timings ?? {}) };
  for (const [name, s] of Object.entries(timings ?? {})) summed[name] = (summed[name] ?? 0) + s;
  worker.crash("reduce", round);
  return prune(await commitRound(store, round + 1, { ...run, timings: summed }, job.process.ask(run.process), job));
}

/** Writes result.json, theta.npy (the best θ), theta-last.npy (when it differs), model.json
 *  (networks) and history.csv from round r's state; a finished job's rounds are pruned. */
export async function finalizeStep(
  store: BlobStore,
  round: number,
  seconds: number,
  worker: Worker,
): Promise<{ status: string }> {
  const job = await workflowJob(store, worker);
  const run = await loadState(store, round);
  const result = await finishRun(run, job.context, seconds);
  const put = async (name: string, bytes: Uint8Array, type: string) => {
    await store.put(name, bytes, type);
  };
  await writeRunFiles(
    result,
    {
      name: job.spec.name,
      spec: job.spec,
      ...(job.network ? { network: job.network } : {}),
      environment: () => job.environment(round, run.timings),
      afterTheta: () => worker.crash("finalize"),
    },
    put,
  );
  // the rounds' statistics served their purpose: the job keeps its results and final state
  if (!job.spec.compute.keepRounds) await pruneRounds(store, round);
  return { status: result.status };
}

/**
 * Where an interrupted job picks up: the last round whose state and plan were both written (or
 * whose state ended the run), or null when Init never finished. Evaluate and reduce are
 * idempotent, so redoing that round gives the θ an uninterrupted run gives.
 */
export async function resumePoint(store: BlobStore, worker: Worker): Promise<RoundPoint | null> {
  for (const r of await stateRounds(store)) {
    let run: RunState<ProcessState>;
    try {
      run = await loadState(store, r);
    } catch {
      continue; // a write the crash cut short: fall back a round
    }
    const job = await workflowJob(store, worker);
    const ask = job.process.ask(run.process);
    // its plan must read whole too (round objects are written without fsync)
    if (
      ask !== null &&
      !(await loadPlan(store, r).then(
        () => true,
        () => false,
      ))
    )
      continue;
    return {
      round: r,
      done: ask === null,
      branch: job.fanOut.branch,
      items: itemsOf(job.fanOut.items),
      tree: job.fanOut.tree ?? [],
      iterations: run.process.progress.history.length,
    };
  }
  return null;
}
