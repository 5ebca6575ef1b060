// The modified EnKF's K×K system from the members' outputs: Q_j = F(θ + ω_j) − F(θ), then
// QᵀWQ and Qᵀg through the loss (Gauss–Newton, W never formed). One place for every path that
// has the outputs in hand: the reference and batched kernels, and the member blocks' reducer.

import type { OutputLoss } from "./types.ts";

/** q (K × M member outputs, member-major) ← Q in place; gram ← QᵀWQ, rhs ← Qᵀg at f0 = F(θ). */
export function ensembleSystem(
  loss: OutputLoss,
  f0: Float64Array,
  q: Float64Array,
  k: number,
  gram: Float64Array,
  rhs: Float64Array,
): void {
  const m = f0.length;
  for (let j = 0; j < k; j++) for (let r = 0; r < m; r++) q[j * m + r] -= f0[r];
  gram.fill(0);
  rhs.fill(0);
  loss.gaussNewton(f0, q, k, gram, rhs);
}
