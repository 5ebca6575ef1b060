// A convex bowl plus a high-frequency oscillation (Rastrigin-like), written as residuals:
//   F_i = θ_i,  F_{n+i} = √(2A)·sin(πf(θ_i − c_i)),  y = (c, 0),
//   Φ = ½‖θ − c‖² + A·Σ sin²(πf(θ_i − c_i))   (for f = 1, ½ of Rastrigin Σ[x² − A cos 2πx + A] at x = θ − c).
// The global minimiser is c (Φ* = 0); for 2Aπ²f² > 1 there is a local minimum near every point
// of c + lattice/f. c is seeded (|c_i| ≲ 1); θ₀ = c + start in every coordinate.

import { leastSquares } from "../losses/leastSquares.ts";
import { fillGaussian, Stream } from "../math/rng.ts";
import type { Problem } from "./types.ts";

export interface OscillatoryOptions {
  dimension: number;
  amplitude: number;
  frequency: number;
  seed: number;
  /** offset of θ₀ from the minimiser, per coordinate */
  start: number;
}

export function oscillatory(opts: OscillatoryOptions): Problem {
  const n = opts.dimension;
  const c = new Float64Array(n);
  fillGaussian(c, { seed: opts.seed, stream: Stream.problem, iteration: 0, member: 0 }, 0, n, 0, 0.5);
  const amp = Math.sqrt(2 * opts.amplitude);
  const w = Math.PI * opts.frequency;
  const target = new Float64Array(2 * n);
  target.set(c);
  return {
    kind: "oscillatory",
    dimension: n,
    outputSize: 2 * n,
    loss: leastSquares(target),
    solution: c,
    optimum: 0,
    initial() {
      const x = new Float64Array(n);
      for (let i = 0; i < n; i++) x[i] = c[i] + opts.start;
      return x;
    },
    forward(theta, out) {
      for (let i = 0; i < n; i++) {
        out[i] = theta[i];
        out[n + i] = amp * Math.sin(w * (theta[i] - c[i]));
      }
    },
    vjp(theta, v, out) {
      for (let i = 0; i < n; i++) out[i] = v[i] + v[n + i] * amp * w * Math.cos(w * (theta[i] - c[i]));
    },
  };
}
