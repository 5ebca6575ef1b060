// Small dense-vector helpers over Float64Array used by the optimizers (no allocation inside, but
// in trialPoint, which returns a new point).

export function dot(a: Float64Array, b: Float64Array, n = a.length): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

export function norm2(a: Float64Array): number {
  return Math.sqrt(dot(a, a));
}

/** y ← y + alpha·x */
export function axpy(alpha: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] += alpha * x[i];
}

/** out ← a + alpha·b */
export function addScaled(a: Float64Array, alpha: number, b: Float64Array, out: Float64Array): void {
  for (let i = 0; i < out.length; i++) out[i] = a[i] + alpha * b[i];
}

/** ‖a − b‖₂ */
export function distance(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return Math.sqrt(s);
}

export function allFinite(a: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/** The line-search trial point θ + ηd: the one expression every driver and worker evaluates it by,
 *  so an accepted point is bitwise the one whose Φ was judged. */
export function trialPoint(base: Float64Array, direction: Float64Array, eta: number): Float64Array {
  const out = new Float64Array(base.length);
  for (let i = 0; i < base.length; i++) out[i] = base[i] + eta * direction[i];
  return out;
}
