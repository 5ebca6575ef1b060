// Packs the parameter vectors of J ensemble members into the per-layer tensors of the batched
// ensemble forward (float32):
//   layer 0:  W0[D, J·H0] with entry (i, j·H0 + h) = θ_j[W0 + i·H0 + h],  B0[j·H0 + h];
//   layer l:  Wl[J, H, H'] = member j's W_l block copied whole,  Bl[J, 1, H'].
// Low-rank ensembles (rank r > 0) pack layer 0 as factors instead:
//   W0[D, H0] = θ's alone,  A0[D, J·r] with entry (i, j·r + q) = (A_j)[i, q],
//   S0[J, r, H0] with entry (j, q, h) = σ/√r·(B_j)[h, q],  B0[J, 1, H0];
// member 0 (θ) has zero factors, and the later layers are packed dense, θ + ω_j, as above.

import { mlpLayout, type MlpSpec } from "../models/mlp.ts";
import { lowRankFactors, perturbationRange, type EnsembleDraw } from "../math/perturbation.ts";
import { addProduct } from "../math/product.ts";

export interface PackedLayer {
  weights: Float32Array;
  bias: Float32Array;
  weightDims: number[];
  biasDims: number[];
  /** layer 0 of a low-rank ensemble: A0[D, J·r] and S0[J, r, H0] (weights then holds θ's W0 alone) */
  factors?: { rank: number; a: Float32Array; s: Float32Array; aDims: number[]; sDims: number[] };
}

/**
 * Tensors for J members; `shared` puts them in SharedArrayBuffers so worker threads can fill them; rank > 0 packs layer
 * 0 as factors.
 */
export function allocatePacked(spec: MlpSpec, members: number, shared = false, rank = 0): PackedLayer[] {
  const f32 = (count: number) =>
    new Float32Array(shared ? new SharedArrayBuffer(4 * count) : new ArrayBuffer(4 * count));
  return mlpLayout(spec).layers.map(({ inputs, outputs }, l) =>
    l === 0 && rank > 0
      ? {
          weights: f32(inputs * outputs),
          bias: f32(members * outputs),
          weightDims: [inputs, outputs],
          biasDims: [members, 1, outputs],
          factors: {
            rank,
            a: f32(inputs * members * rank),
            s: f32(members * rank * outputs),
            aDims: [inputs, members * rank],
            sDims: [members, rank, outputs],
          },
        }
      : l === 0
        ? {
            weights: f32(inputs * members * outputs),
            bias: f32(members * outputs),
            weightDims: [inputs, members * outputs],
            biasDims: [members * outputs],
          }
        : {
            weights: f32(members * inputs * outputs),
            bias: f32(members * outputs),
            weightDims: [members, inputs, outputs],
            biasDims: [members, 1, outputs],
          },
  );
}

/**
 * Member j ≥ 1 of a low-rank ensemble, perturbation `member` of `draw` (whose blocks factor
 * layer 0): A_j and σ/√r·B_jᵀ into layer 0's factors, θ + ω_j into its bias and every later
 * layer (their factored blocks built from the factors). `w` is scratch of at least the largest
 * layer's size.
 */
export function packLowRankMember(
  spec: MlpSpec,
  packed: PackedLayer[],
  members: number,
  j: number,
  theta: Float64Array,
  draw: EnsembleDraw,
  member: number,
  w: Float64Array,
): void {
  const { layers } = mlpLayout(spec);
  const rank = packed[0].factors!.rank;
  if (draw.lowRank?.rank !== rank || draw.lowRank.blocks[0]?.offset !== layers[0].weightOffset)
    throw new Error(`the packed ensemble factors layer 0 at rank ${rank}; the draw does not`);
  const f = lowRankFactors(draw, member);
  const { inputs: d, outputs: h0 } = layers[0];
  const { a, s } = packed[0].factors!;
  const stride = members * rank,
    scale = draw.sigma / Math.sqrt(rank);
  for (let i = 0; i < d; i++) for (let q = 0; q < rank; q++) a[i * stride + j * rank + q] = f[i * rank + q];
  for (let q = 0; q < rank; q++)
    for (let h = 0; h < h0; h++) s[(j * rank + q) * h0 + h] = scale * f[d * rank + h * rank + q];
  layers.forEach(({ inputs, outputs, weightOffset, biasOffset }, l) => {
    const { weights, bias } = packed[l];
    if (l > 0) {
      const size = inputs * outputs;
      perturbationRange(draw, member, weightOffset, size, w, 0, f);
      for (let t = 0; t < size; t++) weights[j * size + t] = theta[weightOffset + t] + w[t];
    }
    perturbationRange(draw, member, biasOffset, outputs, w, 0, f);
    for (let t = 0; t < outputs; t++) bias[j * outputs + t] = theta[biasOffset + t] + w[t];
  });
}

/**
 * Writes member j's parameters (length n), params + delta when delta is given, into the packed tensors for J members.
 */
export function packMember(
  spec: MlpSpec,
  packed: PackedLayer[],
  members: number,
  j: number,
  params: Float64Array,
  delta?: Float64Array,
): void {
  const { layers } = mlpLayout(spec);
  layers.forEach(({ inputs, outputs, weightOffset, biasOffset }, l) => {
    const { weights, bias } = packed[l];
    if (l === 0 && packed[0].factors) {
      // a low-rank ensemble: only member 0 (θ, zero factors) is packed from a vector
      if (j !== 0 || delta)
        throw new Error("a low-rank ensemble packs its perturbed members from the draw (packLowRankMember)");
      copySum(weights, 0, params, undefined, weightOffset, inputs * outputs);
    } else if (l === 0) {
      const stride = members * outputs;
      for (let i = 0; i < inputs; i++)
        copySum(weights, i * stride + j * outputs, params, delta, weightOffset + i * outputs, outputs);
    } else {
      copySum(weights, j * inputs * outputs, params, delta, weightOffset, inputs * outputs);
    }
    copySum(bias, j * outputs, params, delta, biasOffset, outputs);
  });
}

/** dst[at + t] ← a[from + t] (+ b[from + t]) for t < count, rounded to float32. */
export function copySum(
  dst: Float32Array,
  at: number,
  a: Float64Array,
  b: Float64Array | undefined,
  from: number,
  count: number,
): void {
  if (b) for (let t = 0; t < count; t++) dst[at + t] = a[from + t] + b[from + t];
  else for (let t = 0; t < count; t++) dst[at + t] = a[from + t];
}

/**
 * out ← Σ_j s_j·(P_{j+1} − P_0) over the packed members: the update direction Δs in the
 * perturbations the forward actually evaluated (δ_j = float32(θ + ω_j) − float32(θ), exact in
 * float64), so no separate copy of Ω is kept. s has K = members − 1 entries.
 */
export function packedDirection(
  spec: MlpSpec,
  packed: PackedLayer[],
  members: number,
  s: Float64Array,
  out: Float64Array,
): void {
  mlpLayout(spec).layers.forEach(({ inputs, outputs, weightOffset, biasOffset }, l) => {
    const { weights, bias, factors } = packed[l];
    if (factors) {
      factoredDirection(factors.a, factors.s, inputs, outputs, members, factors.rank, s, out, weightOffset);
    } else if (l === 0) {
      // W0[D, J·H0]: row i holds all members' h-blocks side by side
      const stride = members * outputs;
      for (let i = 0; i < inputs; i++)
        combineInterleaved(weights, i * stride, members, outputs, s, out, weightOffset + i * outputs);
    } else {
      combineBlocks(weights, members, inputs * outputs, s, out, weightOffset);
    }
    combineBlocks(bias, members, outputs, s, out, biasOffset);
  });
}

/**
 * out[at + i·H + h] ← Σ_j s_j Σ_q A[i, j·r+q]·S[j, q, h] for members j ≥ 1 (member 0's factors
 * are zero): the low-rank layer's Σ_j s_j σ·A_j B_jᵀ/√r as one D × (J·r) by (J·r) × H product of
 * the float32 factors the forward evaluated, in float64, never a dense member.
 */
export function factoredDirection(
  a: Float32Array,
  sf: Float32Array,
  d: number,
  h: number,
  members: number,
  rank: number,
  s: Float64Array,
  out: Float64Array,
  at: number,
): void {
  const width = members * rank;
  const t = new Float64Array(width * h);
  for (let j = 1; j < members; j++) {
    const sj = s[j - 1];
    for (let q = 0; q < rank; q++) {
      const row = (j * rank + q) * h;
      for (let c = 0; c < h; c++) t[row + c] = sj * sf[row + c];
    }
  }
  out.fill(0, at, at + d * h);
  addProduct(a, t, d, width, h, out, at);
}

/** out[at + t] ← Σ_j s_j·(src[(j+1)·size + t] − src[t]) for member-major blocks of `size`. */
export function combineBlocks(
  src: Float32Array,
  members: number,
  size: number,
  s: Float64Array,
  out: Float64Array,
  at: number,
): void {
  combineInterleaved(src, 0, members, size, s, out, at);
}

/** The same for `members` blocks of `size` side by side from src[from]; four members per pass. */
function combineInterleaved(
  src: Float32Array,
  from: number,
  members: number,
  size: number,
  s: Float64Array,
  out: Float64Array,
  at: number,
): void {
  out.fill(0, at, at + size);
  let j = 1;
  for (; j + 3 < members; j += 4) {
    const s0 = s[j - 1],
      s1 = s[j],
      s2 = s[j + 1],
      s3 = s[j + 2];
    const o0 = from + j * size,
      o1 = o0 + size,
      o2 = o1 + size,
      o3 = o2 + size;
    for (let t = 0; t < size; t++) {
      const base = src[from + t];
      out[at + t] +=
        s0 * (src[o0 + t] - base) + s1 * (src[o1 + t] - base) + s2 * (src[o2 + t] - base) + s3 * (src[o3 + t] - base);
    }
  }
  for (; j < members; j++) {
    const sj = s[j - 1],
      o = from + j * size;
    for (let t = 0; t < size; t++) out[at + t] += sj * (src[o + t] - src[from + t]);
  }
}
