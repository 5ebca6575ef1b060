// The work one thread does for the perturbation pool: for members j in [from, to), generate ω_j
// and pack θ + ω_j (member j + 1 of the batched forward) into the shared member tensors (as
// layer-0 factors where the ensemble is low-rank). Ω itself is not kept: one row of scratch per
// call.

import type { EnsembleDraw } from "../math/perturbation.ts";
import { onnxAdapter } from "./onnxModels.ts";
import type { PackJob } from "./perturbationPool.ts";

export function fillMembers(draw: EnsembleDraw, n: number, k: number, from: number, to: number, pack: PackJob): void {
  const w = new Float64Array(n);
  const adapter = onnxAdapter(pack.model, pack.packed[0].factors?.rank ?? 0);
  for (let j = from; j < to; j++) adapter.packPerturbed(pack.packed, k + 1, j, pack.theta, draw, w);
}
