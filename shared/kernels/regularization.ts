// The ½α‖θ‖² term of a fast kernel's statistics, G += αΩᵀΩ and b += αΩᵀθ, with Ω regenerated
// from the seed in slices of parameters (K × SLICE values at a time), so Ω is never held whole.

import { perturbationRange, type EnsembleDraw } from "../math/perturbation.ts";
import { accumulateGram, accumulateProjection } from "../math/gram.ts";

const SLICE = 4096;

export function addRegeneratedRegularization(draw: EnsembleDraw, k: number, n: number, theta: Float64Array, alpha: number, gram: Float64Array, rhs: Float64Array): void {
  const len = Math.min(SLICE, n);
  const slice = new Float64Array(k * len);
  const proj = new Float64Array(k);
  for (let i0 = 0; i0 < n; i0 += len) {
    const count = Math.min(len, n - i0);
    for (let j = 0; j < k; j++) {
      perturbationRange(draw, j, i0, count, slice, j * count);
    }
    const rows = slice.subarray(0, k * count);
    accumulateGram(rows, k, count, null, gram, alpha);
    accumulateProjection(rows, k, count, theta.subarray(i0, i0 + count), proj);
  }
  for (let j = 0; j < k; j++) rhs[j] += alpha * proj[j];
}
