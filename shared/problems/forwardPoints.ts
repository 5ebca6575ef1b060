// F at many points: in one call where the problem's forward runs in batches (an ONNX graph, an
// http service), else point by point. EKI's particles and a member block's points go through here.

import type { Problem } from "./types.ts";

/** out (count × M) ← F at `count` points (count × n, member-major). */
export async function forwardPoints(
  problem: Problem,
  points: Float64Array,
  count: number,
  out: Float64Array,
): Promise<void> {
  if (problem.forwardBatch) return problem.forwardBatch(points, count, out);
  const n = problem.dimension,
    m = problem.outputSize;
  for (let j = 0; j < count; j++)
    problem.forward(points.subarray(j * n, (j + 1) * n), out.subarray(j * m, (j + 1) * m));
}
