// The (chained) Rosenbrock function as residuals, for i = 0 … n−2:
//   F_{2i} = 10(θ_{i+1} − θ_i²),  F_{2i+1} = 1 − θ_i,  y = 0,
//   Φ = ½ Σ [100(θ_{i+1} − θ_i²)² + (1 − θ_i)²].
// Minimiser θ* = (1, …, 1) with Φ* = 0; the classic start (−1.2, 1, −1.2, 1, …).

import { leastSquares } from "../losses/leastSquares.ts";
import type { Problem } from "./types.ts";

export function rosenbrock(opts: { dimension: number }): Problem {
  const n = opts.dimension;
  if (n < 2) throw new RangeError("rosenbrock needs dimension ≥ 2");
  const m = 2 * (n - 1);
  return {
    kind: "rosenbrock",
    dimension: n,
    outputSize: m,
    loss: leastSquares(new Float64Array(m)),
    solution: new Float64Array(n).fill(1),
    optimum: 0,
    initial() {
      const x = new Float64Array(n);
      for (let i = 0; i < n; i++) x[i] = i % 2 === 0 ? -1.2 : 1;
      return x;
    },
    forward(theta, out) {
      for (let i = 0; i < n - 1; i++) {
        out[2 * i] = 10 * (theta[i + 1] - theta[i] * theta[i]);
        out[2 * i + 1] = 1 - theta[i];
      }
    },
    vjp(theta, v, out) {
      out.fill(0);
      for (let i = 0; i < n - 1; i++) {
        out[i] += -20 * theta[i] * v[2 * i] - v[2 * i + 1];
        out[i + 1] += 10 * v[2 * i];
      }
    },
  };
}
