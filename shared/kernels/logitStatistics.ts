// The statistics of one iteration from the ensemble's outputs, for kernels whose forward returns
// logits rather than the statistics themselves (the WebAssembly ONNX engine, the gpu kernel):
// Q_j = F(θ+ω_j) − F(θ) in float64, then QᵀWQ and Qᵀg through the loss.

import type { OutputLoss } from "../losses/types.ts";

/** Copies chunk logits [J, rows, C] into member-major logits over all rows [J, total, C]. */
export function gatherChunk(all: Float32Array, chunk: ArrayLike<number>, members: number, c: number, r0: number, rows: number, total: number): void {
  const size = rows * c;
  for (let j = 0; j < members; j++) {
    const src = j * size, dst = (j * total + r0) * c;
    for (let t = 0; t < size; t++) all[dst + t] = chunk[src + t];
  }
}

export interface LogitStatistics {
  /** F(θ) in float64 after the last call */
  readonly f0: Float64Array;
  /** fills gram (K×K) and rhs (K) from member-major logits [K+1, len]; returns Φ_L(θ) */
  compute(loss: OutputLoss, logits: Float32Array, gram: Float64Array, rhs: Float64Array): number;
}

/** A reusable workspace for K perturbed members and outputs of length `len` each. */
export function logitStatistics(k: number, len: number): LogitStatistics {
  const f0 = new Float64Array(len);
  const q = new Float64Array(k * len);
  return {
    f0,
    compute(loss, logits, gram, rhs) {
      for (let r = 0; r < len; r++) f0[r] = logits[r];
      for (let j = 0; j < k; j++) {
        const src = (j + 1) * len, dst = j * len;
        for (let r = 0; r < len; r++) q[dst + r] = logits[src + r] - f0[r];
      }
      gram.fill(0);
      rhs.fill(0);
      return loss.gaussNewton(f0, q, k, gram, rhs);
    },
  };
}
