// The workflow's steps, one per state of the state machine: init, evaluate (one shard), reduce,
// finalize and the failure record. Each reads what it needs from the job's store, calls the core
// (../distributed) and writes its output back; what it returns is small and independent of K, n
// and the data size (the job's counters only). The Lambda handlers and the local engine call
// these same functions.

import { decodeShards, decodeTrainShard, encodeShards, parseManifest } from "../data/shards.ts";
import type { DatasetManifest } from "../data/manifest.ts";
import { datasetReader, writeDatasetFiles } from "./datasetFiles.ts";
import type { Dataset, Split } from "../data/types.ts";
import { evaluateShard, shardObjectives, shardPlan, type ShardData } from "../distributed/evaluateShard.ts";
import { currentObjective, modifiedEnkf, type Ask, type EnkfState } from "../enkf/modifiedEnkf.ts";
import { regeneratedDirection } from "../math/perturbation.ts";
import { decodePartial, encodePartial, PARTIAL_PHASES, reduceLadder, reducePartials, type ShardPartial } from "../distributed/shardPartial.ts";
import { trialPoint } from "../math/vector.ts";
import { noCrash, type CrashHook } from "./hooks.ts";
import type { RunResult } from "../enkf/types.ts";
import { discrepancyLevel, discrepancyStop, emptySelection, evaluationDue, finalChoice, observeEvaluation } from "../enkf/selection.ts";
import type { StopDecision } from "../enkf/stopping.ts";
import { encodeNpyFloat64 } from "../formats/npy.ts";
import { availableParallelism } from "node:os";
import type { EnsembleKernel } from "../kernels/types.ts";
import { denseMatrices, initModel, parameterCount, type NetworkModel } from "../models/model.ts";
import { jobKernel, jobModel, jobProblem, networkJob, type NetworkJob } from "../setup/jobSetup.ts";
import { warmKernel } from "../distributed/warmKernels.ts";
import { WorkerCache } from "../distributed/workerCache.ts";

/** this worker's cache (its injection into the steps comes with their restructuring) */
const workerCache = new WorkerCache();
import { checkLimits } from "../spec/limits.ts";
import { modelCard } from "../predict/modelCard.ts";
import { historyCsv, resultDocument, toJson } from "../output/history.ts";
import type { NetworkProblem } from "../problems/network.ts";
import { JobSpec } from "../spec/job.ts";
import { getJson, IntegrityError, NotFoundError, putJson, type BlobStore } from "../store/blobStore.ts";
import { bytesF64, f64Bytes, getJsonExact, keys, loadPlan, loadState, PARTIAL_TAGS, pruneRounds, putJsonExact, savePlan, saveState, stateRounds } from "./jobStore.ts";

/** What every step passes on: which round comes next, and the job's progress. */
export interface RoundCursor {
  round: number;
  shards: number[];
  done: boolean;
  /** evaluate on the GPU branch (compute.backend "gpu") */
  gpu: boolean;
  /** an inverse job: `shards` are member blocks (memberSteps.ts), on the lambda branch when its forward is a Lambda function */
  members: boolean;
  lambda: boolean;
  /** iterations finished and the last one's Φ (for progress) */
  iterations?: number;
  objective?: number;
}

export class WorkflowError extends Error {
  override name = "WorkflowError";
}

/** The modified EnKF as the workflow runs it: every round evaluates the whole line-search ladder
 *  and the next iteration's statistics at one rung (speculation), and the reducer regenerates Ω
 *  for d = Ωs. */
function algorithm(job: NetworkJob, model: NetworkModel) {
  return modifiedEnkf(job.optimizer, job.stop, { classification: job.problem.type === "classification", speculate: true, direction: regeneratedDirection, matrices: denseMatrices(model) });
}

async function loadJob(store: BlobStore): Promise<NetworkJob> {
  return networkJob(JobSpec.parse(await getJson(store, keys.spec)));
}

/** The client's part: writes the job and its dataset, cut into `shards` training shards, to the
 *  store; `theta0`, a warm start's θ₀ (shared/predict/warmStart.ts checked that it fits). */
export async function prepareJob(store: BlobStore, spec: unknown, dataset: Dataset, shards: number, theta0?: Float64Array, blobs?: string): Promise<void> {
  const job = networkJob(JobSpec.parse(spec));
  // the service's limits (shared/spec/limits.ts), before anything is written
  checkLimits({
    ensembleSize: job.optimizer.ensembleSize, parameters: parameterCount(jobModel(job, dataset)), timeLimit: job.stop.timeLimit,
    shards: { count: shards, trainRows: dataset.train.rows, valuesPerRow: dataset.features + (dataset.kind === "classification" ? 1 : dataset.outputs) },
  });
  shardPlan(dataset.train.rows, shards);
  const n = parameterCount(jobModel(job, dataset));
  if (theta0 && theta0.length !== n) throw new WorkflowError(`the warm start's θ has ${theta0.length} parameters; this job's network has ${n}`);
  if (theta0) await store.put(keys.initTheta, f64Bytes(theta0));
  await putJson(store, keys.spec, job);
  // `blobs`: the service's content-addressed folder, so a dataset is stored once for all its jobs
  await writeDatasetFiles(store, encodeShards(dataset, shards), blobs);
}

async function loadManifest(store: BlobStore) {
  return parseManifest(new TextDecoder().decode(await store.get(keys.manifest)), `${store.location}${keys.manifest}`);
}

/** A prepared job's spec and its round's items: training shards, or an inverse job's member blocks
 *  (which its stored spec always names: memberSteps.ts fills compute.memberBlocks in). */
export async function preparedJob(store: BlobStore): Promise<{ job: JobSpec; shards: number }> {
  const job = JobSpec.parse(await getJson(store, keys.spec));
  if (job.problem.type === "inverse") return { job, shards: job.compute.memberBlocks ?? 1 };
  return { job: networkJob(job), shards: (await loadManifest(store)).splits.train.shards.length };
}


/** The Init state: θ₀ and round 0's plan from the prepared job. */
export async function initJob(store: BlobStore): Promise<RoundCursor> {
  const job = await loadJob(store);
  const manifest = await loadManifest(store);
  const model = jobModel(job, manifest);
  const warm = await store.has(keys.initTheta);
  const theta0 = warm ? bytesF64(await store.get(keys.initTheta)) : initModel(model, job.problem.seed);
  const start = algorithm(job, model).start(theta0);
  // a warm start is scored first, as iteration 0: the run keeps it unless it finds better
  if (warm && job.stop.evaluateEvery !== undefined) {
    start.state.selection = observeEvaluation(emptySelection(), job.stop, 0, (await fullMetrics(store, job, theta0)).metrics).selection;
    await store.put(keys.bestTheta, f64Bytes(theta0));
  }
  await saveState(store, 0, start.state);
  await savePlan(store, 0, start.ask);
  return { round: 0, shards: manifest.splits.train.shards.map((_, s) => s), done: false, gpu: job.compute.backend === "gpu", members: false, lambda: false };
}

/**
 * A worker's decoded shards, by store, shard and the shard files' sha256s: a worker evaluates the
 * same shard every round, and the files never change under those hashes. Small: a worker holds
 * the shards it has been given.
 */
const shardCache = new Map<string, Split>();
const SHARD_CACHE_LIMIT = 8;

async function shardRows(store: BlobStore, manifest: DatasetManifest, shard: number): Promise<Split> {
  const files = manifest.splits.train.shards[shard];
  const key = `${store.location}|${shard}|${files?.x.sha256}|${files?.y.sha256}`;
  const hit = shardCache.get(key);
  if (hit) return hit;
  const rows = await decodeTrainShard(manifest, shard, await datasetReader(store, manifest), `${store.location}dataset`);
  if (shardCache.size >= SHARD_CACHE_LIMIT) shardCache.delete(shardCache.keys().next().value!);
  shardCache.set(key, rows);
  return rows;
}

async function shardData(store: BlobStore, job: NetworkJob, shard: number): Promise<ShardData & { model: NetworkModel }> {
  const manifest = await loadManifest(store);
  const rows = await shardRows(store, manifest, shard);
  const slice = shardPlan(manifest.splits.train.rows, manifest.splits.train.shards.length)[shard];
  return {
    model: jobModel(job, manifest),
    loss: job.problem.loss, kind: manifest.kind, outputs: manifest.outputs, rows, slice,
    trainRows: manifest.splits.train.rows, batchSize: job.optimizer.batchSize, batchSeed: job.optimizer.seed,
  };
}

/** Warnings already printed by this worker (a kernel fallback would otherwise repeat every round). */
const warned = new Set<string>();
const warnOnce = (line: string) => { if (!warned.has(line)) { warned.add(line); console.warn(`enkf: warning: ${line}`); } };

/** The job's ensemble kernel for one shard's problem: its compute.backend, one ONNX thread and no
 *  RNG threads of its own (the workflow already runs one evaluate task per core). */
function shardKernel(job: NetworkJob): (problem: NetworkProblem, k: number) => Promise<EnsembleKernel> {
  const build = async (problem: NetworkProblem) => (await jobKernel(job, problem, warnOnce, { threads: 1, rngWorkers: 0 }))!;
  // kept warm across this job's rounds on this worker (warmKernels.ts)
  return (problem, k) => warmKernel(workerCache, JSON.stringify(job), problem, k, build);
}

/** One shard's work in round r: its partial statistics, and its shares of Φ at every rung of a pending trial's ladder. */
export async function evaluateStep(store: BlobStore, round: number, shard: number, opts: { force?: boolean; crash?: CrashHook } = {}): Promise<{ round: number; shard: number }> {
  const job = await loadJob(store);
  const plan = await loadPlan(store, round);
  // idempotent: a shard whose partial (and trial share) for this round are already whole is done;
  // a rerun writes nothing (the statistics would be the same; only the timings would differ).
  // `force`: the caller knows they are not (the reducer), or wants the work timed (calibration).
  if (!opts.force && (await checkedShard(store, round, shard, job.optimizer.ensembleSize, rungsOf(plan), true))) return { round, shard };
  const data = await shardData(store, job, shard);
  const kernel = shardKernel(job), k = job.optimizer.ensembleSize;
  const part = await evaluateShard({ ...data, iteration: plan.iteration, theta: plan.point, draw: algorithm(job, data.model).draw(plan), k, kernel });
  (opts.crash ?? noCrash)("evaluate", round);
  await store.put(keys.partial(round, shard), encodePartial(part), "application/octet-stream", PARTIAL_TAGS);
  if (plan.trial) {
    // a failed trial's Φ (NaN) stays NaN: plain JSON would write null, which sums as 0
    await putJsonExact(store, keys.trial(round, shard), await shardObjectives(data, plan.trial, k, kernel), PARTIAL_TAGS);
  }
  return { round, shard };
}

/** Reduces round r's partials, decides, and writes round r+1's state and plan. */
export async function reduceStep(store: BlobStore, round: number, shards: number, elapsedSeconds: number, crash: CrashHook = noCrash): Promise<RoundCursor> {
  const job = await loadJob(store);
  const plan = await loadPlan(store, round);
  const state = await loadState(store, round);
  const alpha = job.problem.regularization;
  const k = job.optimizer.ensembleSize;
  const t0 = performance.now();
  const parts = [];
  const shares: { rows: number; phis: number[] }[] = [];
  const rungs = rungsOf(plan);
  for (let s = 0; s < shards; s++) {
    const checked = await checkedShard(store, round, s, k, rungs);
    if (!checked) {
      // missing or corrupt: this shard is evaluated again (it writes the same statistics), never used as is
      await evaluateStep(store, round, s, { force: true, crash });
    }
    const again = checked ?? (await checkedShard(store, round, s, k, rungs));
    if (!again) throw new WorkflowError(`round ${round}: shard ${s}'s partial is still unreadable after evaluating it again`);
    parts.push(again.partial);
    if (again.trial) shares.push(again.trial);
  }
  const machine = algorithm(job, jobModel(job, await loadManifest(store)));
  const stats = reducePartials(parts, shards, alpha > 0 ? { alpha, theta: plan.point, draw: machine.draw(plan) } : undefined);
  const trial = plan.trial;
  const trialPhis = trial && reduceLadder(shares, trial.etas.map((eta) => trialPoint(trial.base, trial.direction, eta)), alpha);
  const readSeconds = (performance.now() - t0) / 1000;
  const before = state.history.length; // tell may extend this history array in place
  const next = machine.tell(state, plan, { stats, ...(trialPhis ? { trialPhis } : {}) }, elapsedSeconds);
  await selectOnData(store, job, next, before);
  // the workers' kernel phases and the reducer's reads, summed over the run (for the report)
  const timings: Record<string, number> = { ...(state.timings ?? {}) };
  for (const p of parts) PARTIAL_PHASES.forEach((name, i) => { timings[name] = (timings[name] ?? 0) + (p.timings?.[i] ?? 0); });
  timings.io = (timings.io ?? 0) + readSeconds;
  next.state.timings = timings;
  return { ...(await commitRound(store, round, next, crash)), shards: Array.from({ length: shards }, (_, s) => s), gpu: job.compute.backend === "gpu", members: false, lambda: false };
}

/**
 * Writes the reducer's decision for round r (both branches): round r+1's state and plan, and the
 * cursor's progress. Idempotent: a rerun keeps the state an earlier run wrote (its history holds
 * that run's clock) and writes the plan again, byte for byte the same.
 */
export async function commitRound(store: BlobStore, round: number, next: { state: EnkfState; ask: Ask | null }, crash: CrashHook): Promise<Pick<RoundCursor, "round" | "done" | "iterations" | "objective">> {
  crash("reduce", round);
  const written = await loadState(store, round + 1).catch(() => null);
  if (written) next.state = written;
  else await saveState(store, round + 1, next.state);
  if (next.ask) await savePlan(store, round + 1, next.ask);
  const last = next.state.history[next.state.history.length - 1];
  return { round: round + 1, done: next.ask === null, iterations: next.state.history.length, ...(last && Number.isFinite(last.objective) ? { objective: last.objective } : {}) };
}

/**
 * The new rows' evaluations on the full splits, the best θ by the validation metric and the stops
 * that look at the data (selection.ts), as optimize.ts applies them in process: the row of an
 * iteration that stop.evaluateEvery names gets its metrics, a new best θ is written to the store,
 * and early stopping or the discrepancy principle ends the run.
 */
async function selectOnData(store: BlobStore, job: NetworkJob, next: { state: EnkfState; ask: unknown }, before: number): Promise<void> {
  const { state } = next;
  const rows = state.history.slice(before);
  if (rows.length === 0 || state.done) return;
  let decision: StopDecision | null = null;
  // the manifest (the targets per row) only when there is a noise level to compare with
  if (job.stop.discrepancy && job.problem.type === "regression") {
    const level = discrepancyLevel(job.stop, (await loadManifest(store)).outputs);
    for (const row of rows) decision ??= discrepancyStop(level, row.objective);
  }
  const last = rows[rows.length - 1];
  if (evaluationDue(job.stop, last.iteration)) {
    last.evaluation = (await fullMetrics(store, job, state.theta)).metrics;
    const seen = observeEvaluation(state.selection ?? emptySelection(), job.stop, last.iteration, last.evaluation);
    state.selection = seen.selection;
    if (seen.improved) await store.put(keys.bestTheta, f64Bytes(state.theta));
    decision ??= seen.done;
  }
  if (decision) { state.done = decision; next.ask = null; }
}

/** How many rungs of a trial's ladder a round evaluates (0 without a trial). */
const rungsOf = (plan: { trial?: { etas: readonly number[] } }) => plan.trial?.etas.length ?? 0;

/** A shard's partial (and, with `rungs` > 0, its ladder shares) for a round if both read back whole, with the right shape; else null. */
async function checkedShard(store: BlobStore, round: number, shard: number, k: number, rungs: number, quiet = false): Promise<{ partial: ShardPartial; trial?: { rows: number; phis: number[] } } | null> {
  try {
    const partial = decodePartial(await store.get(keys.partial(round, shard)), `${store.location}${keys.partial(round, shard)}`);
    if (partial.shard !== shard || partial.k !== k) return null;
    if (rungs === 0) return { partial };
    const share = (await getJsonExact(store, keys.trial(round, shard))) as { rows?: unknown; phis?: unknown };
    const phis = share.phis;
    if (typeof share.rows !== "number" || !Array.isArray(phis) || phis.length !== rungs || !phis.every((v) => typeof v === "number")) return null;
    return { partial, trial: { rows: share.rows, phis: phis as number[] } };
  } catch (e) {
    if (e instanceof NotFoundError || e instanceof IntegrityError || e instanceof RangeError) {
      if (quiet && e instanceof NotFoundError) return null;
      console.warn(`enkf: round ${round}, shard ${shard}: ${(e as Error).message}; evaluating the shard again`);
      return null;
    }
    throw e;
  }
}

/** The whole dataset, decoded once per store and manifest (the reducer evaluates every few rounds). */
let wholeDataset: { key: string; dataset: Dataset } | null = null;

/** The prepared job's whole dataset (train, validation and test), decoded once per store and manifest. */
export async function jobDataset(store: BlobStore): Promise<Dataset> {
  const manifest = await loadManifest(store);
  const key = `${store.location}|${JSON.stringify(manifest)}`;
  if (wholeDataset?.key !== key) wholeDataset = { key, dataset: await decodeShards(manifest, await datasetReader(store, manifest), `${store.location}dataset`) };
  return wholeDataset.dataset;
}

/** Loss and accuracy of θ on the full train, validation and test splits, as an in-process run
 *  reports them: through the workers' kernel's forward where it has one (onnx, wasm), as enkf run's.
 *  Also names that kernel ("auto" → onnx, wasm or reference, as createKernel chooses on this
 *  runtime); gpu jobs ran in the GPU container, which this step is not. */
async function fullMetrics(store: BlobStore, job: NetworkJob, theta: Float64Array): Promise<{ metrics: Record<string, number>; kernel: string }> {
  const problem = jobProblem(job, await jobDataset(store)) as NetworkProblem;
  if (job.compute.backend === "gpu") return { metrics: await problem.evaluate!(theta), kernel: "gpu" };
  const kernel = await shardKernel(job)(problem, job.optimizer.ensembleSize);
  try {
    return { metrics: await problem.evaluate!(theta, kernel.predict), kernel: kernel.name };
  } finally {
    await kernel.dispose();
  }
}

/**
 * Where an interrupted job picks up: the last round whose state and plan were both written (or
 * whose state ended the optimization), or null when Init never finished. Evaluate and reduce are
 * idempotent, so redoing that round gives the θ an uninterrupted run gives. Either branch; the
 * cursor's items come from `items` (the data shards, or the member blocks).
 */
export async function resumePoint(store: BlobStore, items: () => Promise<Pick<RoundCursor, "shards" | "gpu" | "members" | "lambda">>): Promise<RoundCursor | null> {
  for (const r of await stateRounds(store)) {
    let state: EnkfState;
    try {
      state = await loadState(store, r);
    } catch {
      continue; // a write the crash cut short: fall back a round
    }
    const done = state.done !== null && state.done !== undefined;
    // its plan must read whole too (round objects are written without fsync)
    if (!done && !(await loadPlan(store, r).then(() => true, () => false))) continue;
    return { round: r, done, iterations: state.history.length, ...(await items()) };
  }
  return null;
}

/** A prepared network job's round items: its training shards. */
export async function shardItems(store: BlobStore): Promise<Pick<RoundCursor, "shards" | "gpu" | "members" | "lambda">> {
  const job = await loadJob(store);
  const manifest = await loadManifest(store);
  return { shards: manifest.splits.train.shards.map((_, i) => i), gpu: job.compute.backend === "gpu", members: false, lambda: false };
}

/** What the result says of the run from its final state (both branches' finalize). */
export function finalState(state: EnkfState, seconds: number): Pick<RunResult, "status" | "message" | "iterations" | "objective" | "evaluations" | "seconds" | "history"> {
  return {
    status: state.done?.status ?? "failed",
    message: state.done?.message ?? "the workflow ended before the stopping rule",
    iterations: state.history.length,
    objective: currentObjective(state),
    evaluations: state.evaluations,
    seconds,
    history: state.history,
  };
}

/** Writes result.json, theta.npy (the best θ), theta-last.npy (when it differs) and history.csv from the final state. */
export async function finalizeJob(store: BlobStore, round: number, seconds: number, crash: CrashHook = noCrash): Promise<{ status: string }> {
  const job = await loadJob(store);
  const state = await loadState(store, round);
  const base = finalState(state, seconds);
  const { metrics, kernel } = await fullMetrics(store, job, state.theta);
  const { best, lastIsResult } = finalChoice(state.selection ?? emptySelection(), job.stop, state.history.length, metrics);
  const result: RunResult = lastIsResult || !best
    ? { ...base, theta: state.theta, metrics, ...(best ? { best } : {}) }
    : { ...base, theta: bytesF64(await store.get(keys.bestTheta)), metrics: best.metrics, best, last: { theta: state.theta, metrics } };
  const files: Record<string, string> = { theta: keys.theta, ...(result.last ? { thetaLast: keys.thetaLast } : {}), model: keys.model, history: keys.history, spec: keys.spec };
  await store.put(keys.theta, encodeNpyFloat64(result.theta));
  const manifest = await loadManifest(store);
  await store.put(keys.model, new TextEncoder().encode(toJson(modelCard(jobModel(job, manifest), manifest, result.best?.iteration ?? result.iterations, result.metrics))), "application/json");
  if (result.last) await store.put(keys.thetaLast, encodeNpyFloat64(result.last.theta));
  crash("finalize");
  await store.put(keys.history, new TextEncoder().encode(historyCsv(result.history)), "text/csv");
  const environment = {
    engine: "workflow", rounds: round, backend: kernel, requestedBackend: job.compute.backend, node: process.version, platform: process.platform, arch: process.arch, cores: availableParallelism(),
    // summed over every worker (CPU-seconds, so they may exceed the wall time) and the reducer
    ...(state.timings ? { timings: state.timings } : {}),
  };
  await store.put(keys.result, new TextEncoder().encode(toJson(resultDocument(result, { name: job.name, spec: job, environment, files }))), "application/json");
  // the rounds' statistics served their purpose: the job keeps its results and final state
  if (!job.compute.keepRounds) await pruneRounds(store, round);
  return { status: result.status };
}

/** Records why the job failed (the state machine's Catch routes here). */
export async function recordFailure(store: BlobStore, error: { Error?: string; Cause?: string }): Promise<void> {
  await putJson(store, keys.failure, { status: "failed", error: error.Error ?? "Error", cause: error.Cause ?? "" });
}

/** What a job's promotion decided (the service's models.ts), as its outcome reports it. */
export interface PromotionOutcome {
  model: string;
  promoted: boolean;
  version?: number;
  decision: string;
  metrics?: { challenger: Record<string, number> | null; champion: Record<string, number> | null };
}

/** The job's outcome: the Outcome state's output, written to outcome.json and published as the event's detail. */
export interface JobOutcome {
  id: string;
  /** succeeded, or failed (a cancelled job's execution is stopped before this state) */
  status: "succeeded" | "failed";
  /** why the run stopped (converged, max_iterations, early_stopped, …) or why it failed */
  result: string;
  metrics: Record<string, number>;
  promotion: PromotionOutcome | null;
}

/**
 * The Outcome state: the job's status and final metrics, and, where `promote` is given (the
 * service, for a job whose schedule carries a promotion rule), its promotion, which only a
 * succeeded job attempts. A retried state answers the outcome it wrote.
 */
export async function recordOutcome(store: BlobStore, id: string, runStatus: string, promote?: (status: JobOutcome["status"]) => Promise<PromotionOutcome | null>): Promise<JobOutcome> {
  try {
    return (await getJson(store, keys.outcome)) as JobOutcome;
  } catch (e) {
    // none yet, or a write cut short: decide (again: promotion is idempotent)
    if (!(e instanceof NotFoundError) && !(e instanceof IntegrityError)) throw e;
  }
  const failed = runStatus === "failed" || !(await store.has(keys.result));
  const status: JobOutcome["status"] = failed ? "failed" : "succeeded";
  let result = runStatus, metrics: Record<string, number> = {};
  if (failed) {
    const f = (await store.has(keys.failure)) ? ((await getJson(store, keys.failure)) as { error?: string; cause?: string }) : {};
    result = [f.error, f.cause].filter(Boolean).join(": ").slice(0, 1000) || "failed";
  } else {
    const r = (await getJson(store, keys.result)) as { status: string; metrics?: Record<string, number> };
    result = r.status;
    metrics = Object.fromEntries(Object.entries(r.metrics ?? {}).filter(([, v]) => typeof v === "number" && Number.isFinite(v)));
  }
  const outcome: JobOutcome = { id, status, result, metrics, promotion: promote ? await promote(status) : null };
  await putJson(store, keys.outcome, outcome);
  return outcome;
}
