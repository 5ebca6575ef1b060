// Weighted Gram products over member-major matrices: G ← G + sign·Σ_r w_r Q[a,r] Q[b,r].
// Q holds K rows of length `len` (row a = member a). Used by the losses to form QᵀWQ
// without ever forming W.

/**
 * Accumulates the weighted Gram matrix of the K rows of `q` into `g` (K×K, row-major).
 * `w` (length `len`) is the diagonal weight; null means all ones.
 */
export function accumulateGram(q: Float64Array, k: number, len: number, w: Float64Array | null, g: Float64Array, sign = 1): void {
  for (let a = 0; a < k; a++) {
    const ra = a * len;
    for (let b = a; b < k; b++) {
      const rb = b * len;
      let s = 0;
      if (w === null) for (let r = 0; r < len; r++) s += q[ra + r] * q[rb + r];
      else for (let r = 0; r < len; r++) s += w[r] * q[ra + r] * q[rb + r];
      s *= sign;
      g[a * k + b] += s;
      if (b !== a) g[b * k + a] += s;
    }
  }
}

/** Accumulates out[a] += Σ_r Q[a,r]·v[r] for the K rows of q. */
export function accumulateProjection(q: Float64Array, k: number, len: number, v: Float64Array, out: Float64Array): void {
  for (let a = 0; a < k; a++) {
    const ra = a * len;
    let s = 0;
    for (let r = 0; r < len; r++) s += q[ra + r] * v[r];
    out[a] += s;
  }
}
