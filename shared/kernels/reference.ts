// The reference kernel: plain TypeScript, one problem.forward per member in float64. Simple and
// obviously correct; the oracle the fast kernels are tested against, and the kernel of the
// built-in problems.

import { ensembleStatistics, ensembleWorkspace } from "../enkf/ensembleStatistics.ts";
import { checkWorkspace } from "../enkf/memory.ts";
import { combineRows } from "../math/gram.ts";
import { isNetworkProblem } from "../problems/network.ts";
import { objective } from "../problems/objective.ts";
import type { Problem } from "../problems/types.ts";
import { emptyTimings, type EnsembleKernel } from "./types.ts";

export function referenceKernel(problem: Problem, k: number, alpha = 0): EnsembleKernel {
  const n = problem.dimension;
  checkWorkspace("the ensemble workspace (Ω and Q, K×(n+M), plus the K×K system)", k * (n + problem.outputSize) + 2 * k * k, "reduce optimizer.ensembleSize or the problem size");
  const ws = ensembleWorkspace(problem, k);
  const f0 = new Float64Array(problem.outputSize);
  const f = new Float64Array(problem.outputSize);
  const timings = emptyTimings();
  return {
    name: "reference",
    k,
    // the reference kernel interleaves the phases; it reports its whole time as forward
    timings,
    async statistics(theta, draw) {
      const t = performance.now();
      const phi = objective(problem, theta, f0, alpha);
      const evaluations = 1 + ensembleStatistics(problem, theta, f0, draw, alpha, ws);
      timings.forward += (performance.now() - t) / 1000;
      const accuracy = isNetworkProblem(problem) ? problem.batchAccuracy(f0) : undefined;
      return { phi, gram: ws.gram, rhs: ws.rhs, evaluations, ...(accuracy !== undefined ? { accuracy } : {}) };
    },
    direction(s, out) {
      combineRows(ws.omega, k, n, s, out);
    },
    async objective(theta) {
      return objective(problem, theta, f, alpha);
    },
    async dispose() {},
  };
}
