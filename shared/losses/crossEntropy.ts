// Softmax cross-entropy on logits: F is m×C (sample-major), labels are class indices.
// Φ = scale·Σ_i [logsumexp(F_i) − F_i,y_i], g_i = scale·(p_i − e_y_i),
// W_i = scale·(diag(p_i) − p_i p_iᵀ), so QᵀWQ = Qᵀdiag(scale·p)Q − VᵀV with V[j,i] = √scale·Σ_c p_ic Q_j,ic.
// The default scale 1/m makes Φ the mean loss.

import { accumulateGram, accumulateProjection } from "../math/gram.ts";
import type { OutputLoss } from "./types.ts";

export function crossEntropy(
  labels: Int32Array,
  classes: number,
  opts: { scale?: number } = {},
): OutputLoss & { readonly labels: Int32Array; readonly classes: number } {
  const m = labels.length;
  const len = m * classes;
  const scale = opts.scale ?? 1 / m;
  for (let i = 0; i < m; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= classes)
      throw new RangeError(`label ${y} of sample ${i} is not a class in [0, ${classes})`);
  }
  const p = new Float64Array(len);
  const wp = new Float64Array(len);
  const g = new Float64Array(len);
  let v = new Float64Array(0);

  /** p ← softmax rows of f; returns Σ_i (logsumexp − f_y) (unscaled). */
  function softmax(f: Float64Array, out: Float64Array): number {
    let total = 0;
    for (let i = 0; i < m; i++) {
      const o = i * classes;
      let mx = -Infinity;
      for (let c = 0; c < classes; c++) mx = Math.max(mx, f[o + c]);
      let s = 0;
      for (let c = 0; c < classes; c++) {
        const e = Math.exp(f[o + c] - mx);
        out[o + c] = e;
        s += e;
      }
      for (let c = 0; c < classes; c++) out[o + c] /= s;
      total += mx + Math.log(s) - f[o + labels[i]];
    }
    return total;
  }

  function gradient(f: Float64Array, gOut: Float64Array): number {
    const total = softmax(f, gOut);
    for (let r = 0; r < len; r++) gOut[r] *= scale;
    for (let i = 0; i < m; i++) gOut[i * classes + labels[i]] -= scale;
    return scale * total;
  }

  return {
    name: "cross-entropy",
    outputSize: len,
    labels,
    classes,
    value(f) {
      return scale * softmax(f, p);
    },
    gradient,
    gaussNewton(f0, q, k, gram, rhs) {
      const phi = gradient(f0, g);
      softmax(f0, p);
      for (let r = 0; r < len; r++) wp[r] = scale * p[r];
      accumulateGram(q, k, len, wp, gram);
      // V[j,i] = Σ_c p_ic Q_j,ic ; subtract scale·VᵀV
      if (v.length !== k * m) v = new Float64Array(k * m);
      for (let j = 0; j < k; j++) {
        const rq = j * len;
        for (let i = 0; i < m; i++) {
          const o = i * classes;
          let s = 0;
          for (let c = 0; c < classes; c++) s += p[o + c] * q[rq + o + c];
          v[j * m + i] = s;
        }
      }
      accumulateGram(v, k, m, null, gram, -scale);
      accumulateProjection(q, k, len, g, rhs);
      return phi;
    },
  };
}
