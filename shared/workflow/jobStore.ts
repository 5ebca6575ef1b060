// A job's objects in its store, and how the workflow's state travels through them. Layout (keys
// under the job's prefix):
//   spec.json                                  the job, defaults filled in
//   init.theta.f64                             a warm start's θ₀ (absent: the seeded initialization)
//   dataset/manifest.json, dataset/<files>     the sharded dataset (../data/manifest.ts)
//   rounds/<r>/plan.json, rounds/<r>/point.f64 what round r evaluates: iteration, σ, the trial's
//                                              ladder (its iteration and step lengths); the point
//   rounds/<r>/partials/<s>.bin                shard s's partial statistics (../distributed/shardPartial.ts)
//   rounds/<r>/trials/<s>.json                 shard s's shares of Φ at every rung, when a trial is pending
//   inputs/<name>                              an inverse job's files: observations.npy, noise-std.npy, forward.onnx
//   rounds/<r>/blocks/<b>.f64                  an inverse job's member block b: F at its points (memberSteps.ts)
//   state/<r>.json, state/<r>.theta.f64, state/<r>.direction.f64
//                                              the reducer's state before round r (θ, pending trial, history);
//                                              θ and d are also the base and direction of round r's ladder
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

import type { Ask, EnkfState, PendingTrial, TrialLadder } from "../enkf/modifiedEnkf.ts";
import { getJson, putJson, type BlobStore } from "../store/blobStore.ts";

const pad = (i: number) => String(i).padStart(6, "0");
/** Partials and trial shares are tagged so the bucket's lifecycle rule can expire them. */
export const PARTIAL_TAGS = { "enkf-kind": "partial" };

export const keys = {
  spec: "spec.json",
  initTheta: "init.theta.f64",
  manifest: "dataset/manifest.json",
  datasetFile: (path: string) => `dataset/${path}`,
  plan: (r: number) => `rounds/${pad(r)}/plan.json`,
  point: (r: number) => `rounds/${pad(r)}/point.f64`,
  partial: (r: number, s: number) => `rounds/${pad(r)}/partials/${pad(s)}.bin`,
  trial: (r: number, s: number) => `rounds/${pad(r)}/trials/${pad(s)}.json`,
  state: (r: number) => `state/${pad(r)}.json`,
  stateTheta: (r: number) => `state/${pad(r)}.theta.f64`,
  stateDirection: (r: number) => `state/${pad(r)}.direction.f64`,
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
const revive = (_k: string, v: unknown) => (v === "NaN" ? NaN : v === "Infinity" ? Infinity : v === "-Infinity" ? -Infinity : v);

/** JSON that keeps NaN and ±Infinity (as their names); `tags` as BlobStore.put takes them. */
export async function putJsonExact(store: BlobStore, key: string, value: unknown, tags?: Record<string, string>): Promise<void> {
  await putJson(store, key, JSON.parse(JSON.stringify(value, finite)), tags);
}
export async function getJsonExact(store: BlobStore, key: string): Promise<unknown> {
  return JSON.parse(JSON.stringify(await getJson(store, key)), revive);
}

/** Writes round r's plan. Its ladder's base and direction are not written again: they are θ and
 *  the pending trial's d of the state before round r, which saveState wrote first. */
export async function savePlan(store: BlobStore, round: number, plan: Ask): Promise<void> {
  await store.put(keys.point(round), f64Bytes(plan.point));
  const { point: _point, trial, ...rest } = plan;
  const ladder = trial ? { iteration: trial.iteration, etas: trial.etas, ...(trial.statisticsRung !== undefined ? { statisticsRung: trial.statisticsRung } : {}) } : undefined;
  await putJsonExact(store, keys.plan(round), { ...rest, ...(ladder ? { trial: ladder } : {}) });
}

export async function loadPlan(store: BlobStore, round: number): Promise<Ask> {
  const rest = (await getJsonExact(store, keys.plan(round))) as Omit<Ask, "point" | "trial"> & { trial?: Omit<TrialLadder, "base" | "direction"> };
  const point = bytesF64(await store.get(keys.point(round)));
  if (!rest.trial) return { ...rest, point } as Ask;
  const base = bytesF64(await store.get(keys.stateTheta(round)));
  const direction = bytesF64(await store.get(keys.stateDirection(round)));
  if (base.length !== point.length || direction.length !== point.length) throw new RangeError(`round ${round}: the trial's base (${base.length}) or direction (${direction.length}) does not match the point's ${point.length} parameters`);
  return { ...rest, point, trial: { ...rest.trial, base, direction } };
}

export async function saveState(store: BlobStore, round: number, state: EnkfState): Promise<void> {
  await store.put(keys.stateTheta(round), f64Bytes(state.theta));
  if (state.pending) await store.put(keys.stateDirection(round), f64Bytes(state.pending.direction));
  const { theta: _theta, pending, ...rest } = state;
  await putJsonExact(store, keys.state(round), { ...rest, pending: pending ? { ...pending, direction: null } : null });
}

/**
 * What a finished job keeps: its results, the best θ, and the final state (a resumed job whose
 * last round finished goes straight to Finalize, which reads it). Every round's plan, point,
 * partials, trial shares and member blocks go, and the earlier states.
 */
export async function pruneRounds(store: BlobStore, finalRound: number): Promise<void> {
  const keep = `state/${pad(finalRound)}.`;
  await store.deleteMany([...(await store.list("rounds/")), ...(await store.list("state/")).filter((k) => !k.startsWith(keep))]);
}

/** The rounds whose state was written, newest first (a state may still be cut short: loadState says). */
export async function stateRounds(store: BlobStore): Promise<number[]> {
  return (await store.list("state/")).map((k) => /^state\/(\d{6})\.json$/.exec(k)).filter((m) => m !== null).map((m) => Number(m[1])).sort((a, b) => b - a);
}

export async function loadState(store: BlobStore, round: number): Promise<EnkfState> {
  type Stored = Omit<EnkfState, "theta" | "pending"> & { pending: Omit<PendingTrial, "direction"> | null };
  const raw = (await getJsonExact(store, keys.state(round))) as Stored;
  const theta = bytesF64(await store.get(keys.stateTheta(round)));
  const pending: PendingTrial | null = raw.pending ? { ...raw.pending, direction: bytesF64(await store.get(keys.stateDirection(round))) } : null;
  return { history: raw.history, rejections: raw.rejections, startObjective: raw.startObjective, evaluations: raw.evaluations, done: raw.done, theta, pending, ...(raw.timings ? { timings: raw.timings } : {}), ...(raw.selection ? { selection: raw.selection } : {}) };
}
