// Weighted least squares in output space: Φ = scale·½ Σ_r w_r (F_r − y_r)², g = scale·w ⊙ (F − y),
// W = scale·diag(w). Weights are inverse noise variances (Γ⁻¹ for a diagonal Γ).

import { accumulateGram, accumulateProjection } from "../math/gram.ts";
import type { OutputLoss } from "./types.ts";

export interface LeastSquaresOptions {
  /** diagonal weights w_r > 0 (default all 1) */
  weights?: Float64Array;
  /** overall factor (default 1) */
  scale?: number;
}

export function leastSquares(
  target: Float64Array,
  opts: LeastSquaresOptions = {},
): OutputLoss & { readonly target: Float64Array; readonly weights: Float64Array | null } {
  const m = target.length;
  const scale = opts.scale ?? 1;
  const w = opts.weights ?? null;
  if (w !== null && w.length !== m)
    throw new RangeError(`least-squares weights have length ${w.length}, expected ${m}`);
  // effective diagonal of W (null = scale·I)
  let wEff: Float64Array | null = null;
  if (w !== null || scale !== 1) {
    wEff = new Float64Array(m);
    for (let r = 0; r < m; r++) wEff[r] = scale * (w === null ? 1 : w[r]);
  }
  const grad = new Float64Array(m);

  function gradient(f: Float64Array, g: Float64Array): number {
    let phi = 0;
    for (let r = 0; r < m; r++) {
      const e = f[r] - target[r];
      const wr = wEff === null ? 1 : wEff[r];
      g[r] = wr * e;
      phi += wr * e * e;
    }
    return 0.5 * phi;
  }

  return {
    name: "least-squares",
    outputSize: m,
    target,
    weights: w,
    value(f) {
      let phi = 0;
      for (let r = 0; r < m; r++) {
        const e = f[r] - target[r];
        phi += (wEff === null ? 1 : wEff[r]) * e * e;
      }
      return 0.5 * phi;
    },
    gradient,
    gaussNewton(f0, q, k, gram, rhs) {
      const phi = gradient(f0, grad);
      accumulateGram(q, k, m, wEff, gram);
      accumulateProjection(q, k, m, grad, rhs);
      return phi;
    },
  };
}
