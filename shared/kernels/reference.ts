// The reference kernel: plain TypeScript, one problem.forward per member in float64. Simple and
// obviously correct; the oracle the fast kernels are tested against, and the kernel of the
// built-in problems. Holds Ω and Q (K×n and K×M): meant for problems where that fits in memory.

import { ensembleSystem } from "../losses/ensembleSystem.ts";
import { combineRows } from "../math/gram.ts";
import { checkWorkspace } from "../math/memory.ts";
import { perturbation, regeneratedDirection, type EnsembleDraw } from "../math/perturbation.ts";
import { isNetworkProblem } from "../problems/network.ts";
import { objective } from "../problems/objective.ts";
import type { Problem } from "../problems/types.ts";
import { emptyTimings, type EnsembleKernel } from "./types.ts";

export interface EnsembleWorkspace {
  readonly k: number;
  /** member-major Ω: row j is ω_j (length n) */
  readonly omega: Float64Array;
  /** member-major Q: row j is Q_j (length M) */
  readonly q: Float64Array;
  /** QᵀWQ, K×K row-major */
  readonly gram: Float64Array;
  /** Qᵀg */
  readonly rhs: Float64Array;
  readonly point: Float64Array;
  readonly f: Float64Array;
}

export function ensembleWorkspace(problem: Problem, k: number): EnsembleWorkspace {
  const n = problem.dimension,
    m = problem.outputSize;
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

/**
 * Fills ws.omega, ws.q, ws.gram and ws.rhs for the ensemble around θ, given f0 = F(θ): Ω_k
 * regenerated from the seed, Q_j = F(θ + ω_j) − F(θ), QᵀWQ and Qᵀg through the loss. Returns the
 * number of forward evaluations made (K).
 */
export function ensembleStatistics(
  problem: Problem,
  theta: Float64Array,
  f0: Float64Array,
  draw: EnsembleDraw,
  ws: EnsembleWorkspace,
): number {
  const n = problem.dimension,
    m = problem.outputSize,
    k = ws.k;
  for (let j = 0; j < k; j++) {
    const omegaJ = ws.omega.subarray(j * n, (j + 1) * n);
    perturbation(draw, j, omegaJ);
    for (let i = 0; i < n; i++) ws.point[i] = theta[i] + omegaJ[i];
    problem.forward(ws.point, ws.q.subarray(j * m, (j + 1) * m));
  }
  ensembleSystem(problem.loss, f0, ws.q, k, ws.gram, ws.rhs);
  return k;
}

/** The reference kernel for problems shaped like `problem`; each call names the problem (batch) it evaluates. */
export function referenceKernel(problem: Problem, k: number): EnsembleKernel {
  const n = problem.dimension;
  checkWorkspace(
    "the ensemble workspace (Ω and Q, K×(n+M), plus the K×K system)",
    k * (n + problem.outputSize) + 2 * k * k,
    "reduce optimizer.ensembleSize or the problem size",
  );
  // sized by the batch's outputs: built again when a call's batch has another size
  let ws = ensembleWorkspace(problem, k);
  const sized = (on: Problem) => {
    if (ws.q.length !== k * on.outputSize) ws = ensembleWorkspace(on, k);
    return ws;
  };
  const timings = emptyTimings();
  let last: EnsembleDraw | null = null;
  return {
    name: "reference",
    members: { precision: "float64" },
    k,
    // the reference kernel interleaves the phases; it reports its whole time as forward
    timings,
    async statistics(theta, draw, on) {
      last = draw;
      const t = performance.now();
      const w = sized(on),
        f0 = new Float64Array(on.outputSize);
      const phi = objective(on, theta, f0);
      const evaluations = 1 + ensembleStatistics(on, theta, f0, draw, w);
      timings.forward += (performance.now() - t) / 1000;
      const accuracy = isNetworkProblem(on) ? on.batchAccuracy(f0) : undefined;
      return { phi, gram: w.gram, rhs: w.rhs, evaluations, ...(accuracy !== undefined ? { accuracy } : {}) };
    },
    direction(s, out) {
      // low-rank draws: from the factors, as the workflow's reducer forms it (the same sums)
      if (last?.lowRank) regeneratedDirection(last, s, out);
      else combineRows(ws.omega, k, n, s, out);
    },
    async objective(theta, on) {
      return objective(on, theta, new Float64Array(on.outputSize));
    },
    async dispose() {},
  };
}
