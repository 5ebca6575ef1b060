// The ½α‖θ‖² term of a fast kernel's statistics, G += αΩᵀΩ and b += αΩᵀθ, with Ω regenerated
// from the seed in slices of parameters (K × SLICE values at a time), so Ω is never held whole.
// Low-rank draws take their factored blocks from the factors alone: with ω_j[W] = s·A_j B_jᵀ
// (s = σ/√r),
//   ⟨ω_i[W], ω_j[W]⟩ = s² Σ_{q,q'} (A_iᵀA_j)[q,q'] (B_iᵀB_j)[q,q'],   ⟨ω_j[W], W⟩ = s Σ_q a_jqᵀ W b_jq,
// two (K·r)² Gram products of the factors and one W·B product, never a dense member.

import { fullDrawRanges, lowRankFactors, perturbationRange, type EnsembleDraw } from "../math/perturbation.ts";
import { accumulateGram, accumulateProjection } from "../math/gram.ts";

const SLICE = 4096;

export function addRegeneratedRegularization(
  draw: EnsembleDraw,
  k: number,
  n: number,
  theta: Float64Array,
  alpha: number,
  gram: Float64Array,
  rhs: Float64Array,
): void {
  const proj = new Float64Array(k);
  const ranges = draw.lowRank ? fullDrawRanges(draw.lowRank.blocks, n) : [[0, n] as [number, number]];
  const len = Math.min(SLICE, Math.max(0, ...ranges.map(([, count]) => count)));
  const slice = new Float64Array(k * len);
  for (const [start, total] of ranges) {
    for (let i0 = start; i0 < start + total; i0 += len) {
      const count = Math.min(len, start + total - i0);
      for (let j = 0; j < k; j++) perturbationRange(draw, j, i0, count, slice, j * count);
      const rows = slice.subarray(0, k * count);
      accumulateGram(rows, k, count, null, gram, alpha);
      accumulateProjection(rows, k, count, theta.subarray(i0, i0 + count), proj);
    }
  }
  if (draw.lowRank) addFactoredTerms(draw, k, theta, alpha, gram, proj);
  for (let j = 0; j < k; j++) rhs[j] += alpha * proj[j];
}

/** The factored blocks' share: G += α s² Σ (AᵀA ⊙ BᵀB) summed over each member pair's r × r
 *  block, proj_j += s Σ_q a_jqᵀ W b_jq. */
function addFactoredTerms(
  draw: EnsembleDraw,
  k: number,
  theta: Float64Array,
  alpha: number,
  gram: Float64Array,
  proj: Float64Array,
): void {
  const { rank, blocks } = draw.lowRank!;
  const width = k * rank,
    scale = draw.sigma / Math.sqrt(rank),
    s2 = alpha * scale * scale;
  // factor vectors member-major: row j·r + q of as[b] is a_jq, of bs[b] is b_jq
  const as = blocks.map((b) => new Float64Array(width * b.rows));
  const bs = blocks.map((b) => new Float64Array(width * b.cols));
  for (let j = 0; j < k; j++) {
    const f = lowRankFactors(draw, j);
    let base = 0;
    blocks.forEach((b, bi) => {
      const a = as[bi],
        t = bs[bi],
        b0 = base + rank * b.rows;
      for (let q = 0; q < rank; q++) {
        const ra = (j * rank + q) * b.rows,
          rb = (j * rank + q) * b.cols;
        for (let i = 0; i < b.rows; i++) a[ra + i] = f[base + i * rank + q];
        for (let c = 0; c < b.cols; c++) t[rb + c] = f[b0 + c * rank + q];
      }
      base += rank * (b.rows + b.cols);
    });
  }
  const ga = new Float64Array(width * width),
    gb = new Float64Array(width * width);
  const wb = new Float64Array(blocks.reduce((m, b) => Math.max(m, b.rows), 0));
  blocks.forEach((b, bi) => {
    ga.fill(0);
    gb.fill(0);
    accumulateGram(as[bi], width, b.rows, null, ga);
    accumulateGram(bs[bi], width, b.cols, null, gb);
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        let sum = 0;
        for (let q = 0; q < rank; q++) {
          const row = (i * rank + q) * width + j * rank;
          for (let p = 0; p < rank; p++) sum += ga[row + p] * gb[row + p];
        }
        gram[i * k + j] += s2 * sum;
      }
    }
    // proj_j += s Σ_q a_jqᵀ (W b_jq), W the block's rows × cols slice of θ
    for (let j = 0; j < k; j++) {
      let sum = 0;
      for (let q = 0; q < rank; q++) {
        const rb = (j * rank + q) * b.cols,
          ra = (j * rank + q) * b.rows;
        for (let i = 0; i < b.rows; i++) {
          const w = b.offset + i * b.cols;
          let dot = 0;
          for (let c = 0; c < b.cols; c++) dot += theta[w + c] * bs[bi][rb + c];
          wb[i] = dot;
        }
        for (let i = 0; i < b.rows; i++) sum += as[bi][ra + i] * wb[i];
      }
      proj[j] += scale * sum;
    }
  });
}
