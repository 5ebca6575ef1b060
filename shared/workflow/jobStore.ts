// A job's objects in its store, and how the workflow's state travels through them. Layout (keys
// under the job's prefix):
//   spec.json                                  the job, defaults filled in
//   init.theta.f64                             a warm start's θ₀ (absent: the seeded initialization)
//   dataset/manifest.json, dataset/<files>     the sharded dataset (../data/manifest.ts)
//   rounds/<r>/plan.bin                        what round r evaluates: the process's ask (stateCodec.ts)
//   rounds/<r>/partials/<s>.bin                shard s's partial statistics (../distributed/partialCodec.ts)
//   rounds/<r>/sums/<l>/<g>.bin                node g of level l of the reduction tree: a sum of partials
//                                              (../distributed/reductionTree.ts)
//   rounds/<r>/trials/<s>.json                 shard s's shares of Φ at every rung, when a trial is pending
//   inputs/<name>                              an inverse job's files: observations.npy, noise-std.npy, forward.onnx
//   rounds/<r>/blocks/<b>.f64                  an inverse job's member block b: F at its points (memberFanOut.ts)
//   state/<r>.bin                              the run's state before round r: the process's, the
//                                              selection, the timings (../enkf/runLoop.ts)
//   best.theta.f64                             the best θ so far by the validation metric (the reducer's evaluations)
//   result.json, theta.npy, history.csv        the result, written by finalize (theta.npy the best θ,
//   theta-last.npy, model.json                 theta-last.npy the last one when they differ; model.json
//                                              what applying the model needs, ../predict/modelCard.ts)
//   failure.json                               why the job failed, written by the failure step
//   outcome.json                               the job's outcome (status, metrics, promotion), written by the
//                                              Outcome state and published as the EventBridge event
// <r> and <s> are zero-padded to 6 digits so keys sort in order. Everything is sized by n, K or
// the shard, never by the number of workers in one object, and the state machine's payloads carry
// only the job's location and counters.

import type { RunState } from "../enkf/runLoop.ts";
import type { ProcessState } from "../enkf/process.ts";
import { getJson, putJson, type BlobStore } from "../store/blobStore.ts";
import { decodeState, encodeState } from "./stateCodec.ts";

const pad = (i: number) => String(i).padStart(6, "0");
/** Partials and trial shares are tagged so the bucket's lifecycle rule can expire them. */
export const PARTIAL_TAGS = { "enkf-kind": "partial" };

export const keys = {
  spec: "spec.json",
  initTheta: "init.theta.f64",
  manifest: "dataset/manifest.json",
  datasetFile: (path: string) => `dataset/${path}`,
  plan: (r: number) => `rounds/${pad(r)}/plan.bin`,
  partial: (r: number, s: number) => `rounds/${pad(r)}/partials/${pad(s)}.bin`,
  trial: (r: number, s: number) => `rounds/${pad(r)}/trials/${pad(s)}.json`,
  sum: (r: number, level: number, node: number) => `rounds/${pad(r)}/sums/${pad(level)}/${pad(node)}.bin`,
  state: (r: number) => `state/${pad(r)}.bin`,
  result: "result.json",
  theta: "theta.npy",
  thetaLast: "theta-last.npy",
  model: "model.json",
  bestTheta: "best.theta.f64",
  history: "history.csv",
  failure: "failure.json",
  outcome: "outcome.json",
};

export const f64Bytes = (a: Float64Array) => new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
export const bytesF64 = (b: Uint8Array) => new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
/** JSON has no NaN or ±Infinity: they are written as strings */
const finite = (_k: string, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v);
const revive = (_k: string, v: unknown) =>
  v === "NaN" ? NaN : v === "Infinity" ? Infinity : v === "-Infinity" ? -Infinity : v;

/** JSON that keeps NaN and ±Infinity (as their names); `tags` as BlobStore.put takes them. */
export async function putJsonExact(
  store: BlobStore,
  key: string,
  value: unknown,
  tags?: Record<string, string>,
): Promise<void> {
  await putJson(store, key, JSON.parse(JSON.stringify(value, finite)), tags);
}
export async function getJsonExact(store: BlobStore, key: string): Promise<unknown> {
  return JSON.parse(JSON.stringify(await getJson(store, key)), revive);
}

/** Writes round r's plan: the ask its items evaluate. */
export async function savePlan(store: BlobStore, round: number, plan: unknown): Promise<void> {
  await store.put(keys.plan(round), encodeState(plan), "application/octet-stream");
}

export async function loadPlan<A>(store: BlobStore, round: number): Promise<A> {
  return decodeState<A>(await store.get(keys.plan(round)), `${store.location}${keys.plan(round)}`);
}

/** Writes the run's state before round r (the reducer's, and Init's for round 0). */
export async function saveState(store: BlobStore, round: number, state: RunState<ProcessState>): Promise<void> {
  await store.put(keys.state(round), encodeState(state), "application/octet-stream");
}

export async function loadState<S extends ProcessState = ProcessState>(
  store: BlobStore,
  round: number,
): Promise<RunState<S>> {
  return decodeState<RunState<S>>(await store.get(keys.state(round)), `${store.location}${keys.state(round)}`);
}

/**
 * What a finished job keeps: its results, the best θ, and the final state (a resumed job whose
 * last round finished goes straight to Finalize, which reads it). Every round's plan, point,
 * partials, trial shares and member blocks go, and the earlier states.
 */
export async function pruneRounds(store: BlobStore, finalRound: number): Promise<void> {
  const keep = keys.state(finalRound);
  await store.deleteMany([...(await store.list("rounds/")), ...(await store.list("state/")).filter((k) => k !== keep)]);
}

/**
 * While the run goes on, once round r + 1's state and plan are written: round r's statistics
 * (partials, sums, trial shares, member blocks) go, since a resume starts at round r + 1, or,
 * should that state not read whole, evaluates round r again from its state and plan, which stay;
 * every earlier round's objects and states go too.
 */
export async function pruneBefore(store: BlobStore, round: number): Promise<void> {
  const roundOf = (key: string) => Number(/^(?:rounds|state)\/(\d{6})/.exec(key)?.[1] ?? NaN);
  const keepPlan = keys.plan(round),
    keepState = keys.state(round);
  const stale = [...(await store.list("rounds/")), ...(await store.list("state/"))].filter(
    (k) => roundOf(k) < round || (roundOf(k) === round && k !== keepPlan && k !== keepState),
  );
  if (stale.length > 0) await store.deleteMany(stale);
}

/** The rounds whose state was written, newest first (a state may still be cut short: loadState says). */
export async function stateRounds(store: BlobStore): Promise<number[]> {
  return (await store.list("state/"))
    .map((k) => /^state\/(\d{6})\.bin$/.exec(k))
    .filter((m) => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
}
