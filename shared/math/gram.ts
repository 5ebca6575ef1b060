// Weighted Gram products over member-major matrices: G ← G + sign·Σ_r w_r Q[a,r] Q[b,r].
// Q holds K rows of length `len` (row a = member a). Used by the losses to form QᵀWQ
// without ever forming W. Pairs of rows are processed in 4×4 blocks (8 row values and one
// weight loaded for 16 products), over column tiles that stay in cache.

function pairDot(q: Float64Array, ra: number, rb: number, len: number, w: Float64Array | null): number {
  let s = 0;
  if (w === null) for (let r = 0; r < len; r++) s += q[ra + r] * q[rb + r];
  else for (let r = 0; r < len; r++) s += w[r] * q[ra + r] * q[rb + r];
  return s;
}

/**
 * Accumulates the weighted Gram matrix of the K rows of `q` into `g` (K×K, row-major).
 * `w` (length `len`) is the diagonal weight; null means all ones.
 */
export function accumulateGram(
  q: Float64Array,
  k: number,
  len: number,
  w: Float64Array | null,
  g: Float64Array,
  sign = 1,
): void {
  const k4 = k - (k % 4);
  const block = new Float64Array(16);
  // tiles of TILE columns keep the K row pieces in cache while every block pair uses them
  for (let c0 = 0; c0 < len; c0 += TILE) {
    const c1 = Math.min(len, c0 + TILE);
    for (let a = 0; a < k4; a += 4) {
      const r0 = a * len,
        r1 = r0 + len,
        r2 = r1 + len,
        r3 = r2 + len;
      for (let b = a; b < k4; b += 4) {
        const t0 = b * len,
          t1 = t0 + len,
          t2 = t1 + len,
          t3 = t2 + len;
        let s00 = 0,
          s01 = 0,
          s02 = 0,
          s03 = 0,
          s10 = 0,
          s11 = 0,
          s12 = 0,
          s13 = 0;
        let s20 = 0,
          s21 = 0,
          s22 = 0,
          s23 = 0,
          s30 = 0,
          s31 = 0,
          s32 = 0,
          s33 = 0;
        for (let r = c0; r < c1; r++) {
          const wr = w === null ? 1 : w[r];
          const x0 = wr * q[r0 + r],
            x1 = wr * q[r1 + r],
            x2 = wr * q[r2 + r],
            x3 = wr * q[r3 + r];
          const y0 = q[t0 + r],
            y1 = q[t1 + r],
            y2 = q[t2 + r],
            y3 = q[t3 + r];
          s00 += x0 * y0;
          s01 += x0 * y1;
          s02 += x0 * y2;
          s03 += x0 * y3;
          s10 += x1 * y0;
          s11 += x1 * y1;
          s12 += x1 * y2;
          s13 += x1 * y3;
          s20 += x2 * y0;
          s21 += x2 * y1;
          s22 += x2 * y2;
          s23 += x2 * y3;
          s30 += x3 * y0;
          s31 += x3 * y1;
          s32 += x3 * y2;
          s33 += x3 * y3;
        }
        block[0] = s00;
        block[1] = s01;
        block[2] = s02;
        block[3] = s03;
        block[4] = s10;
        block[5] = s11;
        block[6] = s12;
        block[7] = s13;
        block[8] = s20;
        block[9] = s21;
        block[10] = s22;
        block[11] = s23;
        block[12] = s30;
        block[13] = s31;
        block[14] = s32;
        block[15] = s33;
        for (let i = 0; i < 4; i++) {
          for (let j = 0; j < 4; j++) {
            const v = sign * block[i * 4 + j];
            g[(a + i) * k + (b + j)] += v;
            // a diagonal block holds both (i, j) and (j, i), so it is not mirrored
            if (b !== a) g[(b + j) * k + (a + i)] += v;
          }
        }
      }
    }
  }
  // pairs with a row beyond the last full block
  for (let a = 0; a < k; a++) {
    for (let b = Math.max(a, k4); b < k; b++) {
      const v = sign * pairDot(q, a * len, b * len, len, w);
      g[a * k + b] += v;
      if (b !== a) g[b * k + a] += v;
    }
  }
}

/** Columns per tile: 512 doubles (4 KiB) of each of K rows, a few hundred KiB for K ≈ 200. */
const TILE = 512;

/** Accumulates out[a] += Σ_r Q[a,r]·v[r] for the K rows of q. */
export function accumulateProjection(
  q: Float64Array,
  k: number,
  len: number,
  v: Float64Array,
  out: Float64Array,
): void {
  for (let a = 0; a < k; a++) {
    const ra = a * len;
    let s = 0;
    for (let r = 0; r < len; r++) s += q[ra + r] * v[r];
    out[a] += s;
  }
}

/** out ← Σ_j s_j·Q[j, ·]: the combination of the K rows of q (length len) with weights s. */
export function combineRows(q: Float64Array, k: number, len: number, s: Float64Array, out: Float64Array): void {
  out.fill(0);
  for (let j = 0; j < k; j++) {
    const sj = s[j],
      o = j * len;
    for (let i = 0; i < len; i++) out[i] += sj * q[o + i];
  }
}

/** The ½α‖θ‖² term in ensemble space: G ← G + αΩΩᵀ and b ← b + αΩθ for the K rows of Ω. */
export function addRegularization(
  omega: Float64Array,
  k: number,
  n: number,
  theta: Float64Array,
  alpha: number,
  gram: Float64Array,
  rhs: Float64Array,
): void {
  accumulateGram(omega, k, n, null, gram, alpha);
  for (let j = 0; j < k; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += omega[j * n + i] * theta[i];
    rhs[j] += alpha * s;
  }
}
