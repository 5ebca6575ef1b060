// The reference ensemble evaluation of one modified-EnKF iteration: regenerate Ω_k from the
// seed, evaluate F(θ + ω_j) for every member, form Q_j = F(θ+ω_j) − F(θ) and accumulate
// QᵀWQ and Qᵀg through the loss (plus αΩᵀΩ and αΩᵀθ for the ½α‖θ‖² term).
// Holds Ω and Q (K×n and K×M): meant for problems where that fits in memory.

import { fillPerturbation, Stream, type PerturbationKind } from "../math/rng.ts";
import { addRegularization } from "../math/gram.ts";
import type { Problem } from "../problems/types.ts";

export interface EnsembleWorkspace {
  readonly k: number;
  /** member-major Ω: row j is ω_j (length n) */
  readonly omega: Float64Array;
  /** member-major Q: row j is Q_j (length M) */
  readonly q: Float64Array;
  /** QᵀWQ (+αΩᵀΩ), K×K row-major */
  readonly gram: Float64Array;
  /** Qᵀg (+αΩᵀθ) */
  readonly rhs: Float64Array;
  readonly point: Float64Array;
  readonly f: Float64Array;
}

export function ensembleWorkspace(problem: Problem, k: number): EnsembleWorkspace {
  const n = problem.dimension, m = problem.outputSize;
  return {
    k,
    omega: new Float64Array(k * n),
    q: new Float64Array(k * m),
    gram: new Float64Array(k * k),
    rhs: new Float64Array(k),
    point: new Float64Array(n),
    f: new Float64Array(m),
  };
}

export interface EnsembleDraw {
  sigma: number;
  kind: PerturbationKind;
  seed: number;
  iteration: number;
}

/** Writes ω_j = σ·z_j of iteration `draw.iteration` into `out` (length n). */
export function perturbation(draw: EnsembleDraw, member: number, out: Float64Array): void {
  fillPerturbation(draw.kind, out, { seed: draw.seed, stream: Stream.perturbation, iteration: draw.iteration, member }, draw.sigma);
}

/**
 * Fills ws.omega, ws.q, ws.gram and ws.rhs for the ensemble around θ, given f0 = F(θ).
 * Returns the number of forward evaluations made (K).
 */
export function ensembleStatistics(problem: Problem, theta: Float64Array, f0: Float64Array, draw: EnsembleDraw, alpha: number, ws: EnsembleWorkspace): number {
  const n = problem.dimension, m = problem.outputSize, k = ws.k;
  for (let j = 0; j < k; j++) {
    const omegaJ = ws.omega.subarray(j * n, (j + 1) * n);
    perturbation(draw, j, omegaJ);
    for (let i = 0; i < n; i++) ws.point[i] = theta[i] + omegaJ[i];
    const qJ = ws.q.subarray(j * m, (j + 1) * m);
    problem.forward(ws.point, qJ);
    for (let r = 0; r < m; r++) qJ[r] -= f0[r];
  }
  ws.gram.fill(0);
  ws.rhs.fill(0);
  problem.loss.gaussNewton(f0, ws.q, k, ws.gram, ws.rhs);
  if (alpha > 0) addRegularization(ws.omega, k, n, theta, alpha, ws.gram, ws.rhs);
  return k;
}
