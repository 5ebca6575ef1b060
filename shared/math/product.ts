// out[at + i·cols + c] += Σ_p A[i, p]·T[p, c]: the dense product of a row-major rows × width
// matrix and a width × cols one, added into a slice of a vector. The low-rank update's one
// D × (K·r) by (K·r) × H product per layer (pack.ts, perturbation.ts).

export function addProduct(
  a: Float32Array | Float64Array,
  t: Float64Array,
  rows: number,
  width: number,
  cols: number,
  out: Float64Array,
  at: number,
): void {
  const h = cols;
  let i = 0;
  // two output rows and four factor columns per pass: each t row is loaded once for eight products
  for (; i + 1 < rows; i += 2) {
    const o0 = at + i * h,
      o1 = o0 + h,
      a0 = i * width,
      a1 = a0 + width;
    let p = 0;
    for (; p + 3 < width; p += 4) {
      const x0 = a[a0 + p],
        x1 = a[a0 + p + 1],
        x2 = a[a0 + p + 2],
        x3 = a[a0 + p + 3];
      const y0 = a[a1 + p],
        y1 = a[a1 + p + 1],
        y2 = a[a1 + p + 2],
        y3 = a[a1 + p + 3];
      const t0 = p * h,
        t1 = t0 + h,
        t2 = t1 + h,
        t3 = t2 + h;
      for (let c = 0; c < h; c++) {
        const u0 = t[t0 + c],
          u1 = t[t1 + c],
          u2 = t[t2 + c],
          u3 = t[t3 + c];
        out[o0 + c] += x0 * u0 + x1 * u1 + x2 * u2 + x3 * u3;
        out[o1 + c] += y0 * u0 + y1 * u1 + y2 * u2 + y3 * u3;
      }
    }
    for (; p < width; p++) {
      const x = a[a0 + p],
        y = a[a1 + p],
        row = p * h;
      for (let c = 0; c < h; c++) {
        out[o0 + c] += x * t[row + c];
        out[o1 + c] += y * t[row + c];
      }
    }
  }
  for (; i < rows; i++) {
    const o = at + i * h,
      ai = i * width;
    let p = 0;
    for (; p + 3 < width; p += 4) {
      const x0 = a[ai + p],
        x1 = a[ai + p + 1],
        x2 = a[ai + p + 2],
        x3 = a[ai + p + 3];
      const t0 = p * h,
        t1 = t0 + h,
        t2 = t1 + h,
        t3 = t2 + h;
      for (let c = 0; c < h; c++) out[o + c] += x0 * t[t0 + c] + x1 * t[t1 + c] + x2 * t[t2 + c] + x3 * t[t3 + c];
    }
    for (; p < width; p++) {
      const x = a[ai + p],
        row = p * h;
      for (let c = 0; c < h; c++) out[o + c] += x * t[row + c];
    }
  }
}
