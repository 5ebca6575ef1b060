// The batched kernel: for problems whose forward runs on a batch of points at once and
// asynchronously (Problem.forwardBatch: an ONNX graph, a remote simulator), the K + 1 members θ
// and θ + ω_j are packed member-major and handed over in one call (the forward cuts them into its
// own blocks); then Q, QᵀWQ and Qᵀg in float64 as the reference kernel forms them.

import { ensembleSystem } from "../losses/ensembleSystem.ts";
import { combineRows } from "../math/gram.ts";
import { checkWorkspace } from "../math/memory.ts";
import { perturbation, regeneratedDirection, type EnsembleDraw } from "../math/perturbation.ts";
import type { Problem } from "../problems/types.ts";
import { emptyTimings, type EnsembleKernel } from "./types.ts";

export function batchedKernel(problem: Problem, k: number): EnsembleKernel {
  const forwardBatch = problem.forwardBatch;
  if (!forwardBatch) throw new Error(`problem "${problem.kind}" has no batched forward`);
  const n = problem.dimension,
    m = problem.outputSize,
    J = k + 1;
  checkWorkspace(
    "the batched ensemble workspace (the K + 1 members and their outputs, (K+1)×(n+M))",
    2 * J * (n + m) + 2 * k * k,
    "reduce optimizer.ensembleSize or the problem size",
  );
  const points = new Float64Array(J * n),
    outs = new Float64Array(J * m);
  const omega = new Float64Array(k * n),
    gram = new Float64Array(k * k),
    rhs = new Float64Array(k);
  const one = new Float64Array(m);
  const timings = emptyTimings();
  let last: EnsembleDraw | null = null;
  return {
    name: "batched",
    members: { precision: "float64" },
    k,
    timings,
    // a batched forward's data never changes: `on` is the problem itself
    async statistics(theta, draw) {
      last = draw;
      let t = performance.now();
      points.set(theta);
      for (let j = 0; j < k; j++) {
        const w = omega.subarray(j * n, (j + 1) * n);
        perturbation(draw, j, w);
        const p = points.subarray((j + 1) * n, (j + 2) * n);
        for (let i = 0; i < n; i++) p[i] = theta[i] + w[i];
      }
      timings.rng += (performance.now() - t) / 1000;
      t = performance.now();
      await forwardBatch(points, J, outs);
      timings.forward += (performance.now() - t) / 1000;
      t = performance.now();
      const f0 = outs.subarray(0, m);
      ensembleSystem(problem.loss, f0, outs.subarray(m), k, gram, rhs);
      timings.gram += (performance.now() - t) / 1000;
      return { phi: problem.loss.value(f0), gram, rhs, evaluations: J };
    },
    direction(s, out) {
      if (last?.lowRank) regeneratedDirection(last, s, out);
      else combineRows(omega, k, n, s, out);
    },
    async objective(theta) {
      await forwardBatch(theta, 1, one);
      return problem.loss.value(one);
    },
    async dispose() {},
  };
}
