// A seeded linear least-squares problem with a chosen Hessian spectrum:
//   F(θ) = D^{1/2} H θ,  y = D^{1/2} H θ*,  Φ = ½‖F(θ) − y‖²,  Hessian HᵀDH,
// where H is a product of R random Householder reflections (exactly orthogonal, applied in O(Rn))
// and D holds eigenvalues from `condition` down to 1. θ* ~ N(0, I) and θ₀ = 0, so Φ* = 0.
// Spectra: "harmonic" λ_i = κ/(1 + (κ−1)·t_i) (polynomial decay, as in mildly ill-posed inverse
// problems), "geometric" λ_i = κ^{1−t_i}, "linear" λ_i = κ − (κ−1)·t_i, with t_i = i/(n−1).

import { leastSquares } from "../losses/leastSquares.ts";
import { fillGaussian, Stream } from "../math/rng.ts";
import type { Problem } from "./types.ts";

export type Spectrum = "harmonic" | "geometric" | "linear";

export interface QuadraticOptions {
  dimension: number;
  condition: number;
  seed: number;
  spectrum?: Spectrum;
  reflections?: number;
}

export function eigenvalues(n: number, condition: number, spectrum: Spectrum): Float64Array {
  const lam = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = n === 1 ? 1 : i / (n - 1);
    if (spectrum === "harmonic") lam[i] = condition / (1 + (condition - 1) * t);
    else if (spectrum === "geometric") lam[i] = Math.pow(condition, 1 - t);
    else lam[i] = condition - (condition - 1) * t;
  }
  return lam;
}

export function quadratic(opts: QuadraticOptions): Problem & { readonly eigenvalues: Float64Array } {
  const n = opts.dimension;
  const spectrum = opts.spectrum ?? "harmonic";
  const lam = eigenvalues(n, opts.condition, spectrum);
  const sqrtLam = lam.map(Math.sqrt);
  const nRef = Math.min(n, opts.reflections ?? 6);
  const refl: Float64Array[] = [];
  for (let r = 0; r < nRef; r++) {
    const v = new Float64Array(n);
    fillGaussian(v, { seed: opts.seed, stream: Stream.problem, iteration: 0, member: 1 + r });
    let s = 0;
    for (let i = 0; i < n; i++) s += v[i] * v[i];
    const inv = 1 / Math.sqrt(s);
    for (let i = 0; i < n; i++) v[i] *= inv;
    refl.push(v);
  }
  const solution = new Float64Array(n);
  fillGaussian(solution, { seed: opts.seed, stream: Stream.problem, iteration: 0, member: 0 });

  const tmp = new Float64Array(n);
  function reflect(v: Float64Array, x: Float64Array): void {
    let s = 0;
    for (let i = 0; i < n; i++) s += v[i] * x[i];
    s *= 2;
    for (let i = 0; i < n; i++) x[i] -= s * v[i];
  }
  /** out ← D^{1/2} H x, H = H_0 H_1 … H_{R−1} */
  function apply(x: Float64Array, out: Float64Array): void {
    tmp.set(x);
    for (let r = nRef - 1; r >= 0; r--) reflect(refl[r], tmp);
    for (let i = 0; i < n; i++) out[i] = sqrtLam[i] * tmp[i];
  }
  const target = new Float64Array(n);
  apply(solution, target);

  return {
    kind: "quadratic",
    dimension: n,
    outputSize: n,
    loss: leastSquares(target),
    eigenvalues: lam,
    solution,
    optimum: 0,
    initial: () => new Float64Array(n),
    forward: apply,
    vjp(_theta, v, out) {
      // Jᵀv = Hᵀ D^{1/2} v = H_{R−1} … H_0 D^{1/2} v
      for (let i = 0; i < n; i++) out[i] = sqrtLam[i] * v[i];
      for (let r = 0; r < nRef; r++) reflect(refl[r], out);
    },
  };
}
