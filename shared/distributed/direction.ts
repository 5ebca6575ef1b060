// d = Ω s as the kernel's forward held the members, formed from the draw alone (the workflow's
// reducer never sees the workers' members). The reference and batched kernels evaluate θ + ω_j in
// float64: d = Σ_j s_j ω_j (regeneratedDirection). The onnx, wasm and gpu kernels evaluate
// float32 members, and their d is Σ_j s_j (float32(θ + ω_j) − float32(θ)), summed four members at
// a time (pack.ts's combine), with an onnx kernel's factored layer 0 as the product of its float32
// factors (factoredDirection). This file forms the same numbers bit for bit from the seed, one
// slice of parameters at a time, so a run through the workflow takes the in-process run's steps
// on every backend.

import { lowRankFactors, perturbationRange, regeneratedDirection, type EnsembleDraw } from "../math/perturbation.ts";
import { factoredDirection } from "../kernels/pack.ts";
import type { MemberForm } from "../kernels/types.ts";

/** values of K members held at once (16 MiB of float64) */
const SLICE_VALUES = 2 ** 21;

/**
 * out ← Ω s for the ensemble `draw` around θ (the statistics' point) as a kernel with members
 * `form` evaluated it; s has K entries.
 *
 * @example
 * ```ts
 * memberDirection(kernel.members, ask.draw, ask.point, s, d); // equals kernel.direction(s, d)
 * ```
 */
export function memberDirection(
  form: MemberForm,
  draw: EnsembleDraw,
  theta: Float64Array,
  s: Float64Array,
  out: Float64Array,
): void {
  if (form.precision === "float64") {
    regeneratedDirection(draw, s, out);
    return;
  }
  const k = s.length,
    n = out.length;
  const factors = draw.lowRank ? Array.from({ length: k }, (_, j) => lowRankFactors(draw, j)) : [];
  if (form.factoredRank === 0) {
    combineRange(draw, theta, s, out, 0, n, factors);
    return;
  }
  const block = draw.lowRank?.blocks[0];
  if (!block || draw.lowRank!.rank !== form.factoredRank)
    throw new Error(
      `members factored at rank ${form.factoredRank}; the draw is ` +
        `${draw.lowRank ? `rank ${draw.lowRank.rank}` : "full"}`,
    );
  const end = block.offset + block.rows * block.cols;
  combineRange(draw, theta, s, out, 0, block.offset, factors);
  factoredBlock(draw, block, s, factors, out);
  combineRange(draw, theta, s, out, end, n - end, factors);
}

/** out[start, start + count) ← Σ_j s_j (float32(θ + ω_j) − float32(θ)), members 1..K four at a time. */
function combineRange(
  draw: EnsembleDraw,
  theta: Float64Array,
  s: Float64Array,
  out: Float64Array,
  start: number,
  count: number,
  factors: Float64Array[],
): void {
  const k = s.length,
    members = k + 1;
  const len = Math.max(1, Math.min(4096, Math.floor(SLICE_VALUES / k), count));
  const w = new Float64Array(k * len);
  for (let i0 = start; i0 < start + count; i0 += len) {
    const c = Math.min(len, start + count - i0);
    for (let j = 0; j < k; j++) perturbationRange(draw, j, i0, c, w, j * c, factors[j]);
    for (let t = 0; t < c; t++) {
      const x = theta[i0 + t],
        base = Math.fround(x);
      const d = (j: number) => Math.fround(x + w[(j - 1) * c + t]) - base;
      let acc = 0;
      let j = 1;
      for (; j + 3 < members; j += 4)
        acc += s[j - 1] * d(j) + s[j] * d(j + 1) + s[j + 1] * d(j + 2) + s[j + 2] * d(j + 3);
      for (; j < members; j++) acc += s[j - 1] * d(j);
      out[i0 + t] = acc;
    }
  }
}

/** The factored layer-0 block from the float32 factors the kernel packs: A[D, J·r] and
 *  S[J·r, H0] = σ/√r·Bᵀ per member, member 0's zero (pack.ts, packLowRankMember). */
function factoredBlock(
  draw: EnsembleDraw,
  block: { offset: number; rows: number; cols: number },
  s: Float64Array,
  factors: Float64Array[],
  out: Float64Array,
): void {
  const rank = draw.lowRank!.rank,
    members = s.length + 1,
    d = block.rows,
    h = block.cols;
  const stride = members * rank,
    scale = draw.sigma / Math.sqrt(rank);
  const a = new Float32Array(d * stride),
    sf = new Float32Array(stride * h);
  for (let j = 1; j < members; j++) {
    const f = factors[j - 1];
    for (let i = 0; i < d; i++) for (let q = 0; q < rank; q++) a[i * stride + j * rank + q] = f[i * rank + q];
    for (let q = 0; q < rank; q++)
      for (let c = 0; c < h; c++) sf[(j * rank + q) * h + c] = scale * f[d * rank + c * rank + q];
  }
  factoredDirection(a, sf, d, h, members, rank, s, out, block.offset);
}
