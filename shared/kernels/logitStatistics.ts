// The statistics of one iteration from the ensemble's outputs, for kernels whose forward returns
// logits rather than the statistics themselves (the WebAssembly ONNX engine, the gpu kernel):
// Q_j = F(θ+ω_j) − F(θ) in float64, then QᵀWQ and Qᵀg through the loss, one sample chunk at a
// time (the statistics are sums over samples), so Q is held for one chunk only.

import type { OutputLoss } from "../losses/types.ts";

/** Copies chunk logits [J, rows, C] into member-major logits over all rows [J, total, C]. */
export function gatherChunk(
  all: Float32Array,
  chunk: ArrayLike<number>,
  members: number,
  c: number,
  r0: number,
  rows: number,
  total: number,
): void {
  const size = rows * c;
  for (let j = 0; j < members; j++) {
    const src = j * size,
      dst = (j * total + r0) * c;
    for (let t = 0; t < size; t++) all[dst + t] = chunk[src + t];
  }
}

export interface LogitStatistics {
  /** fills f0 (length len) with F(θ) from member-major logits [K+1, len] and adds their QᵀWQ to
   *  gram (K×K) and Qᵀg to rhs (K) through `loss` (the loss of those rows); returns Φ_L(θ) of them */
  accumulate(
    loss: OutputLoss,
    logits: ArrayLike<number>,
    len: number,
    f0: Float64Array,
    gram: Float64Array,
    rhs: Float64Array,
  ): number;
}

/** A reusable workspace for K perturbed members and outputs of up to `maxLen` values each. */
export function logitStatistics(k: number, maxLen: number): LogitStatistics {
  const q = new Float64Array(k * maxLen);
  return {
    accumulate(loss, logits, len, f0, gram, rhs) {
      if (len > maxLen) throw new RangeError(`logitStatistics: ${len} outputs per member, workspace holds ${maxLen}`);
      for (let r = 0; r < len; r++) f0[r] = logits[r];
      const qk = q.subarray(0, k * len);
      for (let j = 0; j < k; j++) {
        const src = (j + 1) * len,
          dst = j * len;
        for (let r = 0; r < len; r++) qk[dst + r] = logits[src + r] - f0[r];
      }
      return loss.gaussNewton(f0, qk, k, gram, rhs);
    },
  };
}
