// The workflow's steps for an inverse problem, whose parallel axis is the ensemble's members
// rather than data (the state machine's member branch). Each round's points (θ, its K members and
// the line search's rungs: ../distributed/memberBlocks.ts) are cut into compute.memberBlocks
// blocks; a block's task evaluates the forward at its points and writes their outputs to the
// store (rows × M numbers), and the reducer puts the blocks back together, forms Q and the K×K
// system and tells the modified EnKF, as the in-process kernels do. A lambda forward's block is
// three states: its request (the constrained points), the state machine's invocation of the
// user's function, and the store of its answer. The job's input files (observations, an onnx
// graph) are copied into the store under inputs/ when it is prepared; only θ-sized objects and
// the cursor move between steps.

import { blockRange, roundAnswer, roundPoints, type RoundPoints } from "../distributed/memberBlocks.ts";
import { lineSearchParams } from "../enkf/lineSearch.ts";
import { modifiedEnkf, type Ask } from "../enkf/modifiedEnkf.ts";
import type { RunResult } from "../enkf/types.ts";
import { encodeNpyFloat64 } from "../formats/npy.ts";
import { regeneratedDirection } from "../math/perturbation.ts";
import { historyCsv, resultDocument, toJson } from "../output/history.ts";
import { forwardPoints } from "../problems/forwardPoints.ts";
import { InverseProblemError, type InverseProblem } from "../problems/inverse.ts";
import { inputFiles, loadInverseProblem, type InputReader } from "../setup/inverseInputs.ts";
import { checkLimits } from "../spec/limits.ts";
import { JobSpec, type InverseProblem as InverseProblemSpec, type ModifiedEnkfSpec } from "../spec/job.ts";
import { getJson, NotFoundError, putJson, type BlobStore } from "../store/blobStore.ts";
import { noCrash, type CrashHook } from "./hooks.ts";
import { bytesF64, f64Bytes, keys, loadPlan, loadState, PARTIAL_TAGS, pruneRounds, savePlan, saveState } from "./jobStore.ts";
import { commitRound, finalState, WorkflowError, type RoundCursor } from "./steps.ts";

export type InverseJob = JobSpec & { problem: InverseProblemSpec; optimizer: ModifiedEnkfSpec };

/** Where a prepared job's input files live in its store, by the field that names them. */
const STORED_INPUTS: Record<string, string> = {
  "problem.observations.values": "observations.npy",
  "problem.observations.noise.std": "noise-std.npy",
  "problem.forward.path": "forward.onnx",
};
const inputKey = (name: string) => `inputs/${name}`;
const blockKey = (round: number, block: number) => `rounds/${String(round).padStart(6, "0")}/blocks/${String(block).padStart(6, "0")}.f64`;

/** Step Functions' payload limit is 256 KiB; a lambda block's request and answer stay well below. */
const LAMBDA_PAYLOAD_BYTES = 200_000;
/** bytes per number in a JSON payload, generously (a float64's shortest form is at most 24) */
const JSON_NUMBER_BYTES = 25;

export function isInverseJob(job: JobSpec): job is InverseJob {
  return job.problem.type === "inverse";
}

function inverseJob(job: JobSpec): InverseJob {
  if (!isInverseJob(job) || job.optimizer.method !== "modified-enkf") throw new WorkflowError(`the state machine's member branch runs inverse problems with the modified EnKF; this job is problem "${job.problem.type}", method "${job.optimizer.method}"`);
  return job;
}

const blocksOf = (job: InverseJob) => job.compute.memberBlocks ?? 1;
/** The most points one round evaluates: θ, K members and the longest ladder. */
const roundSize = (job: InverseJob) => job.optimizer.ensembleSize + 1 + 1 + (lineSearchParams(job.optimizer.lineSearch)?.maxBacktracks ?? 0);

/**
 * The client's part for an inverse job: builds its problem first (so every check, from the
 * observations' length to a forward that answers at the prior mean, comes before anything is
 * written), then writes the job with compute.memberBlocks filled in and its input files copied to
 * inputs/ (the stored spec names them there). `read` gives the files (the job file's folder).
 */
export async function prepareMemberJob(store: BlobStore, spec: JobSpec, read: InputReader, theta0?: Float64Array): Promise<void> {
  const job = inverseJob(spec);
  const problem = await loadInverseProblem(job.problem, read);
  checkLimits({ ensembleSize: job.optimizer.ensembleSize, parameters: problem.dimension, timeLimit: job.stop.timeLimit });
  if (theta0 && theta0.length !== problem.dimension) throw new WorkflowError(`the warm start's θ has ${theta0.length} parameters; this problem has ${problem.dimension}`);
  const blocks = blocksOf(job);
  if (job.problem.forward.type === "lambda") {
    const rows = Math.ceil(roundSize(job) / blocks);
    const bytes = rows * Math.max(problem.dimension, problem.observed) * JSON_NUMBER_BYTES;
    if (bytes > LAMBDA_PAYLOAD_BYTES) throw new InverseProblemError("compute.memberBlocks", `a block of ${rows} members sends and receives about ${bytes} bytes, above the state machine's payload limit (${LAMBDA_PAYLOAD_BYTES}); use more member blocks`);
  }
  const stored = structuredClone(job);
  for (const { field, name } of inputFiles(job.problem)) {
    await store.put(inputKey(STORED_INPUTS[field]), await read(name, field));
    if (field === "problem.observations.values") stored.problem.observations.values = STORED_INPUTS[field];
    if (field === "problem.observations.noise.std") stored.problem.observations.noise.std = STORED_INPUTS[field];
    if (field === "problem.forward.path" && stored.problem.forward.type === "onnx") stored.problem.forward.path = STORED_INPUTS[field];
  }
  if (theta0) await store.put(keys.initTheta, f64Bytes(theta0));
  await putJson(store, keys.spec, { ...stored, compute: { ...stored.compute, memberBlocks: blocks } });
}

async function loadJob(store: BlobStore): Promise<InverseJob> {
  return inverseJob(JobSpec.parse(await getJson(store, keys.spec)));
}

/** A worker's problems, by store and job: building one reads its inputs and probes its forward
 *  (an http forward answers a request), which a worker does once, not every round. */
const problems = new Map<string, Promise<InverseProblem>>();
const PROBLEM_CACHE_LIMIT = 4;

function storedProblem(store: BlobStore, job: InverseJob): Promise<InverseProblem> {
  const key = `${store.location}|${JSON.stringify(job)}`;
  let hit = problems.get(key);
  if (!hit) {
    const read: InputReader = (name, field) => store.get(inputKey(name)).catch((e: unknown) => {
      throw new InverseProblemError(field, `the prepared job's ${name} is unreadable: ${(e as Error).message}`);
    });
    hit = loadInverseProblem(job.problem, read);
    hit.catch(() => problems.delete(key));
    if (problems.size >= PROBLEM_CACHE_LIMIT) problems.delete(problems.keys().next().value!);
    problems.set(key, hit);
  }
  return hit;
}

/** The modified EnKF as the workflow runs it: speculative rounds, Ω regenerated from the seed. */
function algorithm(job: InverseJob) {
  return modifiedEnkf(job.optimizer, job.stop, { classification: false, speculate: true, direction: regeneratedDirection, matrices: [] });
}

const itemsOf = (job: InverseJob): Pick<RoundCursor, "shards" | "gpu" | "members" | "lambda"> =>
  ({ shards: Array.from({ length: blocksOf(job) }, (_, b) => b), gpu: false, members: true, lambda: job.problem.forward.type === "lambda" });
const cursorOf = (job: InverseJob, c: Omit<RoundCursor, "shards" | "gpu" | "members" | "lambda">): RoundCursor => ({ ...c, ...itemsOf(job) });

/** Whether a prepared job is an inverse one (the member branch's). */
export async function isMemberJob(store: BlobStore): Promise<boolean> {
  const spec = (await getJson(store, keys.spec)) as { problem?: { type?: unknown } };
  return spec.problem?.type === "inverse";
}

/** A prepared inverse job's round items: its member blocks. */
export async function memberItems(store: BlobStore): Promise<Pick<RoundCursor, "shards" | "gpu" | "members" | "lambda">> {
  return itemsOf(await loadJob(store));
}

/** The Init state of an inverse job: θ₀ (a warm start's, or the prior mean) and round 0's plan. */
export async function initMembers(store: BlobStore): Promise<RoundCursor> {
  const job = await loadJob(store);
  const problem = await storedProblem(store, job);
  const theta0 = (await store.has(keys.initTheta)) ? bytesF64(await store.get(keys.initTheta)) : problem.initial();
  const start = algorithm(job).start(theta0);
  await saveState(store, 0, start.state);
  await savePlan(store, 0, start.ask);
  return cursorOf(job, { round: 0, done: false });
}

interface BlockWork {
  job: InverseJob;
  problem: InverseProblem;
  plan: Ask;
  rp: RoundPoints;
  start: number;
  end: number;
}

async function blockWork(store: BlobStore, round: number, block: number): Promise<BlockWork> {
  const job = await loadJob(store);
  const blocks = blocksOf(job);
  if (block >= blocks) throw new WorkflowError(`round ${round}: block ${block} of a job with ${blocks} member blocks`);
  const problem = await storedProblem(store, job);
  const plan = await loadPlan(store, round);
  const rp = roundPoints(plan, algorithm(job).draw(plan), job.optimizer.ensembleSize, problem.dimension);
  return { job, problem, plan, rp, ...blockRange(rp.count, blocks, block) };
}

const pointsOf = (w: BlockWork) => w.rp.points.subarray(w.start * w.rp.n, w.end * w.rp.n);

/** A block's stored outputs if they read back whole with the right length, else null. */
async function storedBlock(store: BlobStore, round: number, block: number, values: number): Promise<Float64Array | null> {
  try {
    const out = bytesF64(await store.get(blockKey(round, block)));
    return out.length === values ? out : null;
  } catch (e) {
    if (e instanceof NotFoundError) return null;
    console.warn(`enkf: round ${round}, member block ${block}: ${(e as Error).message}; evaluating the block again`);
    return null;
  }
}

/** One member block's task in round r: the forward at its points, their outputs to the store. Idempotent. */
export async function evaluateBlockStep(store: BlobStore, round: number, block: number, opts: { force?: boolean; crash?: CrashHook } = {}): Promise<{ round: number; block: number }> {
  const w = await blockWork(store, round, block);
  const rows = w.end - w.start, size = w.problem.outputSize;
  if (!opts.force && (await storedBlock(store, round, block, rows * size))) return { round, block };
  if (w.job.problem.forward.type === "lambda") throw new WorkflowError(`round ${round}, member block ${block}: a lambda forward is invoked by the state machine (its Forward (lambda) state), not by this task`);
  const out = new Float64Array(rows * size);
  const points = pointsOf(w);
  await forwardPoints(w.problem, points, rows, out);
  (opts.crash ?? noCrash)("evaluate", round);
  await store.put(blockKey(round, block), f64Bytes(out), "application/octet-stream", PARTIAL_TAGS);
  return { round, block };
}

/** What the state machine sends a lambda forward for one block: the parameters' names and u at each point. */
export async function blockRequest(store: BlobStore, round: number, block: number): Promise<{ FunctionName: string; Payload: { parameters: string[]; theta: number[][] } }> {
  const w = await blockWork(store, round, block);
  const f = w.job.problem.forward;
  if (f.type !== "lambda") throw new WorkflowError(`round ${round}: a block request is for a lambda forward; this job's is ${f.type}`);
  const rows = w.end - w.start, n = w.rp.n, u = w.problem.constrained(pointsOf(w), rows);
  return { FunctionName: f.functionArn, Payload: { parameters: w.job.problem.parameters.map((p) => p.name), theta: Array.from({ length: rows }, (_, i) => Array.from(u.subarray(i * n, (i + 1) * n))) } };
}

/** Stores a lambda forward's answer for a block: { outputs: [[G…] or null per member] }; a member
 *  answered null or with the wrong length, or a whole answer missing (the invocation failed), is a
 *  failed member. */
export async function storeBlock(store: BlobStore, round: number, block: number, outputs: unknown): Promise<{ round: number; block: number }> {
  const w = await blockWork(store, round, block);
  const rows = w.end - w.start, m = w.problem.observed, size = w.problem.outputSize;
  const g = new Float64Array(rows * m).fill(NaN);
  if (Array.isArray(outputs) && outputs.length === rows) {
    outputs.forEach((o, i) => { if (Array.isArray(o) && o.length === m && o.every((v) => typeof v === "number")) g.set(o as number[], i * m); });
  }
  const out = new Float64Array(rows * size);
  w.problem.outputs(pointsOf(w), rows, g, out);
  await store.put(blockKey(round, block), f64Bytes(out), "application/octet-stream", PARTIAL_TAGS);
  return { round, block };
}

/** Reduces round r's member blocks in block order, tells the modified EnKF, writes round r+1. */
export async function reduceMembersStep(store: BlobStore, round: number, elapsedSeconds: number, crash: CrashHook = noCrash): Promise<RoundCursor> {
  const job = await loadJob(store);
  const problem = await storedProblem(store, job);
  const plan = await loadPlan(store, round);
  const state = await loadState(store, round);
  const k = job.optimizer.ensembleSize, size = problem.outputSize, blocks = blocksOf(job);
  const machine = algorithm(job);
  const draw = machine.draw(plan);
  const rp = roundPoints(plan, draw, k, problem.dimension);
  const outs = new Float64Array(rp.count * size);
  for (let b = 0; b < blocks; b++) {
    const { start, end } = blockRange(rp.count, blocks, b);
    const values = (end - start) * size;
    let got = await storedBlock(store, round, b, values);
    if (!got && job.problem.forward.type !== "lambda") {
      await evaluateBlockStep(store, round, b, { force: true, crash });
      got = await storedBlock(store, round, b, values);
    }
    if (!got) throw new WorkflowError(`round ${round}: member block ${b}'s outputs are missing or unreadable`);
    outs.set(got, start * size);
  }
  const next = machine.tell(state, plan, roundAnswer(problem.loss, plan, draw, k, size, rp, outs), elapsedSeconds);
  return cursorOf(job, await commitRound(store, round, next, crash));
}

/** Writes result.json (with the parameters by name, in their units), theta.npy and history.csv. */
export async function finalizeMembers(store: BlobStore, round: number, seconds: number): Promise<{ status: string }> {
  const job = await loadJob(store);
  const problem = await storedProblem(store, job);
  const state = await loadState(store, round);
  // the misfit needs G at θ, which a lambda forward gives only through the state machine
  const metrics = job.problem.forward.type === "lambda" ? {} : await problem.evaluate!(state.theta);
  const result: RunResult = {
    ...finalState(state, seconds),
    theta: state.theta,
    metrics,
    parameters: problem.parameters(state.theta),
  };
  await store.put(keys.theta, encodeNpyFloat64(result.theta));
  await store.put(keys.history, new TextEncoder().encode(historyCsv(result.history)), "text/csv");
  const environment = { engine: "workflow", rounds: round, memberBlocks: blocksOf(job), forward: job.problem.forward.type, node: process.version, platform: process.platform, arch: process.arch };
  await store.put(keys.result, new TextEncoder().encode(toJson(resultDocument(result, { name: job.name, spec: job, environment, files: { theta: keys.theta, history: keys.history, spec: keys.spec } }))), "application/json");
  if (!job.compute.keepRounds) await pruneRounds(store, round);
  return { status: result.status };
}
