// The perturbation draw of one ensemble: ω_j = σ·z_j for iteration k, member j, regenerated
// from the seed with the counter-based RNG, so Ω never has to be stored or sent. Also d = Ωs with
// Ω regenerated member by member (the workflow's reducer, which holds no kernel).
//
// Low-rank draws (EGGROLL, "Evolution Strategies at the Hyperscale", 2025): each factored block, a
// dense weight matrix W (rows × cols, row-major at θ[offset + i·cols + o]) with min(rows, cols) > r,
// is perturbed by
//   ω_j[W] = σ · A_j B_jᵀ / √r,   A_j: rows × r,  B_j: cols × r,  entries N(0, 1),
// so that each entry has variance σ² (E[vec(ABᵀ)vec(ABᵀ)ᵀ] = r·I), as a full Gaussian draw has;
// every other parameter (biases, convolution kernels, small matrices) keeps its full Gaussian
// draw, element i of the perturbation stream, as with "gaussian". A_j then B_j are elements
// [base_b, base_b + r·(rows + cols)) of member j's low-rank stream, base_b the factor counts of
// the blocks before block b: pure functions of (seed, iteration, member, block, index).

import { addProduct } from "./product.ts";
import { fillGaussian, fillPerturbation, Stream, type PerturbationKind } from "./rng.ts";

/** A dense weight matrix of θ that low-rank draws factor. */
export interface FactoredBlock {
  offset: number;
  rows: number;
  cols: number;
}

export interface EnsembleDraw {
  sigma: number;
  /** the full draws' kind (low-rank draws use "gaussian" outside their blocks) */
  kind: PerturbationKind;
  seed: number;
  iteration: number;
  /** rank-r factors for these blocks (absent: every parameter drawn in full) */
  lowRank?: { rank: number; blocks: readonly FactoredBlock[] };
}

/** The blocks a rank-r draw factors: every dense weight matrix with min(rows, cols) > r. */
export function factoredBlocks(matrices: readonly FactoredBlock[], rank: number): FactoredBlock[] {
  return matrices.filter((m) => Math.min(m.rows, m.cols) > rank);
}

/** Member j's factors of every block, [A_b (rows×r) | B_b (cols×r)] block after block. */
export function lowRankFactors(draw: EnsembleDraw, member: number): Float64Array {
  const { rank, blocks } = draw.lowRank!;
  let total = 0;
  for (const b of blocks) total += rank * (b.rows + b.cols);
  const f = new Float64Array(total);
  fillGaussian(f, { seed: draw.seed, stream: Stream.lowRank, iteration: draw.iteration, member });
  return f;
}

/**
 * Writes elements [start, start + count) of ω_j into out[offset ..]. Slices of a member agree
 * bitwise with the whole member: every element is a function of its index alone. The blocks are
 * in ascending offset order (as denseMatrices lists them). `memberFactors`: member j's
 * lowRankFactors, when the caller already has them.
 */
export function perturbationRange(
  draw: EnsembleDraw,
  member: number,
  start: number,
  count: number,
  out: Float64Array,
  offset = 0,
  memberFactors?: Float64Array,
): void {
  const coords = { seed: draw.seed, stream: Stream.perturbation, iteration: draw.iteration, member };
  if (!draw.lowRank) {
    fillPerturbation(draw.kind, out, coords, draw.sigma, start, count, offset);
    return;
  }
  const { rank, blocks } = draw.lowRank;
  const end = start + count,
    scale = draw.sigma / Math.sqrt(rank);
  let factors: Float64Array | null = memberFactors ?? null;
  let at = start,
    base = 0;
  for (const b of blocks) {
    const a0 = base,
      b0 = base + rank * b.rows;
    base += rank * (b.rows + b.cols);
    const to = Math.min(end, b.offset + b.rows * b.cols);
    if (to <= at || b.offset >= end) continue;
    // the full Gaussian draw up to the block, then the block's entries σ·(A Bᵀ)[row, col]/√r
    if (b.offset > at) fillGaussian(out, coords, at, b.offset - at, offset + at - start, draw.sigma);
    factors ??= lowRankFactors(draw, member);
    for (let e = Math.max(at, b.offset); e < to;) {
      const row = Math.floor((e - b.offset) / b.cols);
      const col0 = e - b.offset - row * b.cols,
        cols = Math.min(b.cols - col0, to - e);
      const a = a0 + row * rank;
      for (let c = 0; c < cols; c++, e++) {
        const bc = b0 + (col0 + c) * rank;
        let sum = 0;
        for (let q = 0; q < rank; q++) sum += factors[a + q] * factors[bc + q];
        out[offset + e - start] = scale * sum;
      }
    }
    at = to;
  }
  if (at < end) fillGaussian(out, coords, at, end - at, offset + at - start, draw.sigma);
}

/** The [start, count) ranges of θ (length n) outside the factored blocks: they keep full Gaussian draws. */
export function fullDrawRanges(blocks: readonly FactoredBlock[], n: number): [number, number][] {
  const gaps: [number, number][] = [];
  let at = 0;
  for (const b of blocks) {
    if (b.offset > at) gaps.push([at, b.offset - at]);
    at = b.offset + b.rows * b.cols;
  }
  if (at < n) gaps.push([at, n - at]);
  return gaps;
}

/** Writes ω_j = σ·z_j of iteration `draw.iteration` into `out` (length n). */
export function perturbation(draw: EnsembleDraw, member: number, out: Float64Array): void {
  perturbationRange(draw, member, 0, out.length, out, 0);
}

/**
 * out ← Ω s = Σ_j s_j ω_j, members in order (the same sums as combining stored rows). For
 * low-rank draws each factored block is Σ_j s_j σ·A_j B_jᵀ/√r = A·T, one rows × (K·r) by
 * (K·r) × cols product (A = [A_1 … A_K], T = [s_j σ/√r B_jᵀ]), never a dense member; the
 * full-draw entries between the blocks are combined member by member.
 */
export function regeneratedDirection(draw: EnsembleDraw, s: Float64Array, out: Float64Array): void {
  if (draw.lowRank) {
    lowRankDirection(draw, s, out);
    return;
  }
  const n = out.length,
    w = new Float64Array(n);
  out.fill(0);
  for (let j = 0; j < s.length; j++) {
    perturbation(draw, j, w);
    const sj = s[j];
    for (let i = 0; i < n; i++) out[i] += sj * w[i];
  }
}

function lowRankDirection(draw: EnsembleDraw, s: Float64Array, out: Float64Array): void {
  const { rank, blocks } = draw.lowRank!;
  const n = out.length,
    k = s.length,
    width = k * rank,
    scale = draw.sigma / Math.sqrt(rank);
  const gaps = fullDrawRanges(blocks, n);
  const w = new Float64Array(Math.max(0, ...gaps.map(([, count]) => count)));
  const as = blocks.map((b) => new Float64Array(b.rows * width));
  const ts = blocks.map((b) => new Float64Array(width * b.cols));
  out.fill(0);
  for (let j = 0; j < k; j++) {
    const coords = { seed: draw.seed, stream: Stream.perturbation, iteration: draw.iteration, member: j };
    const sj = s[j];
    for (const [start, count] of gaps) {
      fillGaussian(w, coords, start, count, 0, draw.sigma);
      for (let t = 0; t < count; t++) out[start + t] += sj * w[t];
    }
    const f = lowRankFactors(draw, j);
    let base = 0;
    blocks.forEach((b, bi) => {
      const a = as[bi],
        t = ts[bi],
        b0 = base + rank * b.rows;
      for (let i = 0; i < b.rows; i++)
        for (let q = 0; q < rank; q++) a[i * width + j * rank + q] = f[base + i * rank + q];
      for (let q = 0; q < rank; q++)
        for (let c = 0; c < b.cols; c++) t[(j * rank + q) * b.cols + c] = sj * scale * f[b0 + c * rank + q];
      base += rank * (b.rows + b.cols);
    });
  }
  blocks.forEach((b, bi) => addProduct(as[bi], ts[bi], b.rows, width, b.cols, out, b.offset));
}
