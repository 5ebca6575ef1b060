// The work one thread does for the perturbation pool: generate Ω rows [from, to) and, when asked,
// pack members θ + ω_j (j + 1 in the batched forward) into the shared member tensors.

import { perturbation, type EnsembleDraw } from "../enkf/ensembleStatistics.ts";
import { onnxAdapter } from "./onnxModels.ts";
import type { PackJob } from "./perturbationPool.ts";

export function fillMembers(draw: EnsembleDraw, omega: Float64Array, n: number, k: number, from: number, to: number, pack?: PackJob): void {
  const member = pack ? new Float64Array(n) : null;
  const adapter = pack ? onnxAdapter(pack.model) : null;
  for (let j = from; j < to; j++) {
    const w = omega.subarray(j * n, (j + 1) * n);
    perturbation(draw, j, w);
    if (pack && member && adapter) {
      for (let i = 0; i < n; i++) member[i] = pack.theta[i] + w[i];
      adapter.pack(pack.packed, k + 1, j + 1, member);
    }
  }
}
