// One data shard's share of a modified-EnKF iteration, and the reduction of all shards' shares.
// Φ, QᵀWQ and Qᵀg are sums over samples, so each shard returns unscaled sums over its rows of the
// iteration's batch (K(K+1)/2 + K + 3 numbers, whatever its data size: QᵀWQ is symmetric, so only
// its lower triangle travels, the triangle the Cholesky factorization reads), and the reducer
// adds them in shard order in float64 and divides by the batch size. The ½α‖θ‖² terms are added
// once, at the reducer, from Ω regenerated from the seed. Partials can also be summed in groups
// (combinePartials): a reduction tree's inner nodes, whose sums are partials again.
// Binary form: partialCodec.ts.

import type { EnsembleDraw } from "../math/perturbation.ts";
import { addRegeneratedRegularization } from "../kernels/regularization.ts";
import type { EnsembleStatistics, MemberForm } from "../kernels/types.ts";
import { regularizationTerm } from "../problems/objective.ts";

export interface ShardPartial {
  /** the shard's index (or, for a sum of partials, its group's index at its level) */
  shard: number;
  /** ensemble size K */
  k: number;
  /** rows of the iteration's batch held by this shard */
  rows: number;
  /** Σ over those rows of the loss at θ */
  phi: number;
  /** rows whose predicted class is their label (NaN where there are no classes: regression, inverse problems) */
  correct: number;
  /** Σ QᵀWQ over those rows: its lower triangle packed by rows (row i: columns 0..i), K(K+1)/2 values */
  gram: Float64Array;
  /** Σ Qᵀg over those rows */
  rhs: Float64Array;
  /** how the worker's kernel held the members (absent: no rows of this batch, no kernel) */
  members?: MemberForm;
  /** the worker's kernel phases in seconds (rng, pack, forward, gram, update), for the report */
  timings?: Float64Array;
}

/** The kernel phases a partial may carry, in its order. */
export const PARTIAL_PHASES = ["rng", "pack", "forward", "gram", "update"] as const;

/** Values in the packed lower triangle of a K×K matrix. */
export const triangleSize = (k: number) => (k * (k + 1)) / 2;

/** The lower triangle of a K×K row-major matrix, packed by rows. */
export function packLower(full: ArrayLike<number>, k: number): Float64Array {
  const out = new Float64Array(triangleSize(k));
  for (let i = 0, at = 0; i < k; i++) {
    const row = i * k;
    for (let j = 0; j <= i; j++) out[at++] = full[row + j];
  }
  return out;
}

/** The symmetric K×K row-major matrix whose lower triangle is `packed` (mirrored above). */
export function unpackSymmetric(packed: Float64Array, k: number): Float64Array {
  const out = new Float64Array(k * k);
  for (let i = 0, at = 0; i < k; i++)
    for (let j = 0; j <= i; j++, at++) {
      out[i * k + j] = packed[at];
      out[j * k + i] = packed[at];
    }
  return out;
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
    gram: packLower(s.gram, k),
    rhs: Float64Array.from(s.rhs),
    ...(members ? { members } : {}),
  };
}

/** A running sum of partials in the order they are added (float64), and its checks. */
export class PartialSum {
  rows = 0;
  phi = 0;
  correct = 0;
  count = 0;
  readonly gram: Float64Array;
  readonly rhs: Float64Array;
  members?: MemberForm;
  timings?: Float64Array;
  constructor(readonly k: number) {
    this.gram = new Float64Array(triangleSize(k));
    this.rhs = new Float64Array(k);
  }
  add(p: ShardPartial): void {
    if (p.k !== this.k) throw new RangeError(`shard ${p.shard} has K = ${p.k}, the others K = ${this.k}`);
    this.rows += p.rows;
    this.phi += p.phi;
    this.correct += p.correct;
    // the first partial is copied, so a sum of one is that partial bit for bit
    const first = this.count++ === 0;
    for (const [out, v] of [
      [this.gram, p.gram],
      [this.rhs, p.rhs],
    ] as const) {
      if (first) out.set(v);
      else for (let i = 0; i < out.length; i++) out[i] += v[i];
    }
    this.members ??= p.members;
    if (p.timings) {
      this.timings ??= new Float64Array(PARTIAL_PHASES.length);
      for (let i = 0; i < this.timings.length; i++) this.timings[i] += p.timings[i] ?? 0;
    }
  }
  /** The sum as a partial (a reduction tree's node `index`). */
  partial(index: number): ShardPartial {
    return {
      shard: index,
      k: this.k,
      rows: this.rows,
      phi: this.phi,
      correct: this.correct,
      gram: this.gram,
      rhs: this.rhs,
      ...(this.members ? { members: this.members } : {}),
      ...(this.timings ? { timings: this.timings } : {}),
    };
  }
}

/** The sum of a group of partials, in the order given, as the partial of node `index`. */
export function combinePartials(parts: readonly ShardPartial[], index: number): ShardPartial {
  if (parts.length === 0) throw new RangeError(`node ${index} of the reduction has no partials`);
  const sum = new PartialSum(parts[0].k);
  for (const p of parts) sum.add(p);
  return sum.partial(index);
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
  const sum = new PartialSum(byShard[0]!.k);
  for (const p of byShard as ShardPartial[]) sum.add(p);
  return meanStatistics(sum, reg);
}

/** The mean statistics of a sum of partials: the sums divided by the batch's rows, the Gram
 *  unpacked to K×K, and the ½α‖θ‖² terms added. */
export function meanStatistics(sum: PartialSum, reg?: Regularization): ReducedStatistics {
  const { k, rows } = sum;
  if (rows === 0) throw new RangeError("the batch has no rows in any shard");
  const gram = unpackSymmetric(sum.gram, k),
    rhs = Float64Array.from(sum.rhs);
  for (let i = 0; i < gram.length; i++) gram[i] /= rows;
  for (let i = 0; i < k; i++) rhs[i] /= rows;
  let phi = sum.phi / rows;
  if (reg && reg.alpha > 0) {
    addRegeneratedRegularization(reg.draw, k, reg.theta.length, reg.theta, reg.alpha, gram, rhs);
    phi += regularizationTerm(reg.theta, reg.alpha);
  }
  return { rows, phi, ...(Number.isNaN(sum.correct) ? {} : { accuracy: sum.correct / rows }), gram, rhs };
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
