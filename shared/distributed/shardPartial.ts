// One data shard's share of a modified-EnKF iteration, and the reduction of all shards' shares.
// Φ, QᵀWQ and Qᵀg are sums over samples, so each shard returns unscaled sums over its rows of the
// iteration's batch (K×K + K + 3 numbers, whatever its data size), and the reducer adds them in
// shard order in float64 and divides by the batch size. The ½α‖θ‖² terms are added once, at
// the reducer, from Ω regenerated from the seed.

import type { EnsembleDraw } from "../math/perturbation.ts";
import { addRegeneratedRegularization } from "../kernels/regularization.ts";
import type { EnsembleStatistics, MemberForm } from "../kernels/types.ts";
import { regularizationTerm } from "../problems/objective.ts";

export interface ShardPartial {
  shard: number;
  /** ensemble size K */
  k: number;
  /** rows of the iteration's batch held by this shard */
  rows: number;
  /** Σ over those rows of the loss at θ */
  phi: number;
  /** rows whose predicted class is their label (NaN where there are no classes: regression, inverse problems) */
  correct: number;
  /** Σ QᵀWQ over those rows, K×K row-major */
  gram: Float64Array;
  /** Σ Qᵀg over those rows */
  rhs: Float64Array;
  /** how the worker's kernel held the members (absent: no rows of this batch, no kernel) */
  members?: MemberForm;
  /** the worker's kernel phases in seconds (rng, pack, forward, gram, update), for the report */
  timings?: Float64Array;
}

/** A kernel's statistics over `rows` batch rows (a loss in sum form) as shard `shard`'s partial, copied. */
export function kernelPartial(
  shard: number,
  k: number,
  rows: number,
  s: EnsembleStatistics,
  members?: MemberForm,
): ShardPartial {
  const correct = s.accuracy === undefined ? NaN : Math.round(s.accuracy * rows);
  return {
    shard,
    k,
    rows,
    phi: s.phi,
    correct,
    gram: Float64Array.from(s.gram),
    rhs: Float64Array.from(s.rhs),
    ...(members ? { members } : {}),
  };
}

/** The members' form as one number: NaN none, −1 float64, r ≥ 0 float32 with layer 0 factored at rank r. */
const formCode = (m?: MemberForm) => (!m ? NaN : m.precision === "float64" ? -1 : m.factoredRank);
const formOf = (c: number): MemberForm | undefined =>
  Number.isNaN(c) ? undefined : c < 0 ? { precision: "float64" } : { precision: "float32", factoredRank: c };

/** The kernel phases a partial may carry, in its order. */
export const PARTIAL_PHASES = ["rng", "pack", "forward", "gram", "update"] as const;

const MAGIC = 0x32504b45; // "EKP2", little-endian
const HEADER = 6;

/** Binary form: a 4-byte tag, 4 bytes of padding, then float64 [shard, k, rows, phi, correct,
 *  members (formCode), gram…, rhs…] and, when the worker measured them, its 5 kernel phase timings. */
export function encodePartial(p: ShardPartial): Uint8Array {
  const { k } = p;
  if (p.gram.length !== k * k || p.rhs.length !== k)
    throw new RangeError(
      `partial of shard ${p.shard}: gram ${p.gram.length} and rhs ${p.rhs.length} do not fit K = ${k}`,
    );
  const extra = p.timings ? PARTIAL_PHASES.length : 0;
  const out = new Uint8Array(8 + 8 * (HEADER + k * k + k + extra));
  new DataView(out.buffer).setUint32(0, MAGIC, true);
  const v = new Float64Array(out.buffer, 8);
  v.set([p.shard, k, p.rows, p.phi, p.correct, formCode(p.members)]);
  v.set(p.gram, HEADER);
  v.set(p.rhs, HEADER + k * k);
  if (p.timings) v.set(p.timings.subarray(0, extra), HEADER + k * k + k);
  return out;
}

export function decodePartial(bytes: Uint8Array, what = "partial"): ShardPartial {
  if (
    bytes.length < 8 + 8 * HEADER ||
    new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(0, true) !== MAGIC
  ) {
    throw new RangeError(`${what} is not a shard partial (${bytes.length} bytes)`);
  }
  const v = new Float64Array(bytes.slice(8).buffer);
  const k = v[1];
  const base = HEADER + k * k + k;
  if (!Number.isInteger(k) || k < 1 || (v.length !== base && v.length !== base + PARTIAL_PHASES.length))
    throw new RangeError(`${what}: ${v.length} values do not fit K = ${k}`);
  const members = formOf(v[5]);
  const p: ShardPartial = {
    shard: v[0],
    k,
    rows: v[2],
    phi: v[3],
    correct: v[4],
    gram: v.slice(HEADER, HEADER + k * k),
    rhs: v.slice(HEADER + k * k, base),
    ...(members ? { members } : {}),
  };
  if (v.length > base) p.timings = v.slice(base);
  return p;
}

export interface ReducedStatistics {
  /** batch rows over all shards */
  rows: number;
  /** Φ(θ) = mean loss (+ ½α‖θ‖²) */
  phi: number;
  /** fraction of batch rows classified right (classification only) */
  accuracy?: number;
  /** mean QᵀWQ (+ αΩᵀΩ) */
  gram: Float64Array;
  /** mean Qᵀg (+ αΩᵀθ) */
  rhs: Float64Array;
}

export interface Regularization {
  alpha: number;
  theta: Float64Array;
  draw: EnsembleDraw;
}

/** Sums the partials of shards 0..shards−1 (each exactly once) in shard order and takes the mean. */
export function reducePartials(
  parts: readonly ShardPartial[],
  shards: number,
  reg?: Regularization,
): ReducedStatistics {
  const byShard = new Array<ShardPartial | undefined>(shards);
  for (const p of parts) {
    if (!Number.isInteger(p.shard) || p.shard < 0 || p.shard >= shards)
      throw new RangeError(`a partial names shard ${p.shard}, outside 0..${shards - 1}`);
    if (byShard[p.shard]) throw new RangeError(`shard ${p.shard} has two partials`);
    byShard[p.shard] = p;
  }
  const missing = [...byShard.keys()].filter((s) => !byShard[s]);
  if (missing.length > 0)
    throw new RangeError(`no partial for shard${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`);
  const k = byShard[0]!.k;
  const gram = new Float64Array(k * k),
    rhs = new Float64Array(k);
  let rows = 0,
    phi = 0,
    correct = 0;
  for (const p of byShard as ShardPartial[]) {
    if (p.k !== k) throw new RangeError(`shard ${p.shard} has K = ${p.k}, shard 0 has K = ${k}`);
    rows += p.rows;
    phi += p.phi;
    correct += p.correct;
  }
  if (rows === 0) throw new RangeError("the batch has no rows in any shard");
  // the sums over shards in shard order, then the division by the batch's rows
  const sum = (out: Float64Array, pick: (p: ShardPartial) => Float64Array) => {
    const [first, ...rest] = byShard as ShardPartial[];
    out.set(pick(first));
    for (const p of rest) {
      const v = pick(p);
      for (let i = 0; i < out.length; i++) out[i] += v[i];
    }
    for (let i = 0; i < out.length; i++) out[i] /= rows;
  };
  sum(gram, (p) => p.gram);
  sum(rhs, (p) => p.rhs);
  phi /= rows;
  if (reg && reg.alpha > 0) {
    addRegeneratedRegularization(reg.draw, k, reg.theta.length, reg.theta, reg.alpha, gram, rhs);
    phi += regularizationTerm(reg.theta, reg.alpha);
  }
  return { rows, phi, ...(Number.isNaN(correct) ? {} : { accuracy: correct / rows }), gram, rhs };
}

/** Φ at a trial point from the shards' shares (sums over their rows of the trial's batch): the mean, plus ½α‖θ‖². */
export function reduceTrial(
  shares: readonly { rows: number; phi: number }[],
  point: Float64Array,
  alpha: number,
): number {
  let rows = 0,
    phi = 0;
  for (const s of shares) {
    rows += s.rows;
    phi += s.phi;
  }
  if (rows === 0) throw new RangeError("the trial's batch has no rows in any shard");
  return phi / rows + regularizationTerm(point, alpha);
}

/** Φ at every rung of a ladder from the shards' shares (rung j's sums in phis[j]), each as reduceTrial. */
export function reduceLadder(
  shares: readonly { rows: number; phis: readonly number[] }[],
  points: readonly Float64Array[],
  alpha: number,
): number[] {
  return points.map((point, j) =>
    reduceTrial(
      shares.map((s) => ({ rows: s.rows, phi: s.phis[j] })),
      point,
      alpha,
    ),
  );
}
