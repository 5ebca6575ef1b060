// Dense symmetric K×K float64 linear algebra for the ensemble-space systems (K ≤ a few thousand).
// Matrices are row-major Float64Array(K*K). The solver tries Cholesky, then Cholesky with
// growing diagonal jitter, then an eigen-decomposition pseudo-inverse, and reports which one
// it used; a system with non-finite entries is an error, never a silent NaN step. From K = 256 on
// the factorization is blocked, in WebAssembly SIMD (blockedCholesky.ts).

import { blockedCholeskyInPlace, BLOCKED_FROM } from "./blockedCholesky.ts";
import { allFinite } from "./vector.ts";

export class LinearSolveError extends Error {
  override name = "LinearSolveError";
}

export type SolveMethod = "cholesky" | "jitter" | "pseudo-inverse";

export interface SolveResult {
  x: Float64Array;
  method: SolveMethod;
  /** diagonal shift added for the jitter fallback (0 otherwise) */
  jitter: number;
  /** eigenvalues kept by the pseudo-inverse (K for the other methods) */
  rank: number;
}

/** In-place lower Cholesky factor of A (row-major). Returns false if A is not numerically positive definite. */
export function choleskyInPlace(a: Float64Array, k: number): boolean {
  // columns j and j + 1 together, four rows per pass: each row's prefix is loaded once for four
  // dot products (the same sums in the same order as one column and one row at a time)
  let j = 0;
  for (; j + 1 < k; j += 2) {
    const rj = j * k,
      rn = rj + k;
    let d = a[rj + j];
    for (let p = 0; p < j; p++) d -= a[rj + p] * a[rj + p];
    if (!(d > 0) || !Number.isFinite(d)) return false;
    const ljj = Math.sqrt(d);
    a[rj + j] = ljj;
    // row j + 1, column j
    let s = a[rn + j];
    for (let p = 0; p < j; p++) s -= a[rn + p] * a[rj + p];
    const lnj = s / ljj;
    a[rn + j] = lnj;
    let d2 = a[rn + j + 1];
    for (let p = 0; p <= j; p++) d2 -= a[rn + p] * a[rn + p];
    if (!(d2 > 0) || !Number.isFinite(d2)) return false;
    const lnn = Math.sqrt(d2);
    a[rn + j + 1] = lnn;
    let i = j + 2;
    for (; i + 3 < k; i += 4) {
      const r0 = i * k,
        r1 = r0 + k,
        r2 = r1 + k,
        r3 = r2 + k;
      let s0 = a[r0 + j],
        s1 = a[r1 + j],
        s2 = a[r2 + j],
        s3 = a[r3 + j];
      let t0 = a[r0 + j + 1],
        t1 = a[r1 + j + 1],
        t2 = a[r2 + j + 1],
        t3 = a[r3 + j + 1];
      for (let p = 0; p < j; p++) {
        const x = a[rj + p],
          y = a[rn + p];
        const u0 = a[r0 + p],
          u1 = a[r1 + p],
          u2 = a[r2 + p],
          u3 = a[r3 + p];
        s0 -= u0 * x;
        s1 -= u1 * x;
        s2 -= u2 * x;
        s3 -= u3 * x;
        t0 -= u0 * y;
        t1 -= u1 * y;
        t2 -= u2 * y;
        t3 -= u3 * y;
      }
      s0 /= ljj;
      s1 /= ljj;
      s2 /= ljj;
      s3 /= ljj;
      a[r0 + j] = s0;
      a[r1 + j] = s1;
      a[r2 + j] = s2;
      a[r3 + j] = s3;
      a[r0 + j + 1] = (t0 - s0 * lnj) / lnn;
      a[r1 + j + 1] = (t1 - s1 * lnj) / lnn;
      a[r2 + j + 1] = (t2 - s2 * lnj) / lnn;
      a[r3 + j + 1] = (t3 - s3 * lnj) / lnn;
    }
    for (; i < k; i++) {
      const ri = i * k;
      let s0 = a[ri + j],
        t0 = a[ri + j + 1];
      for (let p = 0; p < j; p++) {
        const u = a[ri + p];
        s0 -= u * a[rj + p];
        t0 -= u * a[rn + p];
      }
      s0 /= ljj;
      a[ri + j] = s0;
      a[ri + j + 1] = (t0 - s0 * lnj) / lnn;
    }
  }
  for (; j < k; j++) {
    const rj = j * k;
    let d = a[rj + j];
    for (let p = 0; p < j; p++) d -= a[rj + p] * a[rj + p];
    if (!(d > 0) || !Number.isFinite(d)) return false;
    a[rj + j] = Math.sqrt(d);
  }
  for (let r = 0; r < k; r++) for (let c = r + 1; c < k; c++) a[r * k + c] = 0;
  return true;
}

/** The lower Cholesky factor in place: blocked, in WebAssembly SIMD, from K = BLOCKED_FROM on
 *  (blockedCholesky.ts), the scalar factorization below it. */
export function factorInPlace(a: Float64Array, k: number): boolean {
  return k >= BLOCKED_FROM ? blockedCholeskyInPlace(a, k) : choleskyInPlace(a, k);
}

/** Solves L Lᵀ x = b given the lower factor L; writes x (may alias b). */
export function choleskySolve(l: Float64Array, k: number, b: Float64Array, x: Float64Array): void {
  if (x !== b) x.set(b);
  for (let i = 0; i < k; i++) {
    let s = x[i];
    const ri = i * k;
    for (let p = 0; p < i; p++) s -= l[ri + p] * x[p];
    x[i] = s / l[ri + i];
  }
  for (let i = k - 1; i >= 0; i--) {
    let s = x[i];
    for (let p = i + 1; p < k; p++) s -= l[p * k + i] * x[p];
    x[i] = s / l[i * k + i];
  }
}

/**
 * Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations.
 * Returns eigenvalues and row-major eigenvectors V with A = V diag(λ) Vᵀ (columns of V).
 */
export function symmetricEigen(
  aIn: Float64Array,
  k: number,
  maxSweeps = 100,
): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(aIn);
  const v = new Float64Array(k * k);
  for (let i = 0; i < k; i++) v[i * k + i] = 1;
  let norm = 0;
  for (let i = 0; i < k * k; i++) norm += a[i] * a[i];
  const tol = 1e-30 * Math.max(norm, Number.MIN_VALUE);
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < k; p++) for (let q = p + 1; q < k; q++) off += a[p * k + q] * a[p * k + q];
    if (off <= tol) break;
    for (let p = 0; p < k - 1; p++) {
      for (let q = p + 1; q < k; q++) {
        const apq = a[p * k + q];
        if (apq === 0) continue;
        const app = a[p * k + p],
          aqq = a[q * k + q];
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1),
          s = t * c;
        for (let r = 0; r < k; r++) {
          const arp = a[r * k + p],
            arq = a[r * k + q];
          a[r * k + p] = c * arp - s * arq;
          a[r * k + q] = s * arp + c * arq;
        }
        for (let r = 0; r < k; r++) {
          const apr = a[p * k + r],
            aqr = a[q * k + r];
          a[p * k + r] = c * apr - s * aqr;
          a[q * k + r] = s * apr + c * aqr;
        }
        for (let r = 0; r < k; r++) {
          const vrp = v[r * k + p],
            vrq = v[r * k + q];
          v[r * k + p] = c * vrp - s * vrq;
          v[r * k + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  const values = new Float64Array(k);
  for (let i = 0; i < k; i++) values[i] = a[i * k + i];
  return { values, vectors: v };
}

export interface SolveOptions {
  /** jitter attempts, each ×100 larger, starting at 1e-12·(trace/K) */
  jitterSteps?: number;
}

/**
 * Solves A x = b for symmetric positive (semi-)definite A (K×K, row-major).
 * Cholesky first; on failure Cholesky of A + τI for τ = 1e-12·mean(diag)·100^t, t < jitterSteps;
 * then the eigenvalue pseudo-inverse with cutoff K·ε·max|λ|.
 */
export function solveSymmetric(a: Float64Array, b: Float64Array, k: number, opts: SolveOptions = {}): SolveResult {
  if (a.length !== k * k || b.length !== k)
    throw new LinearSolveError(
      `dimension mismatch: A has ${a.length} entries and b has ${b.length}, expected ${k}×${k} and ${k}`,
    );
  if (!allFinite(a) || !allFinite(b))
    throw new LinearSolveError(
      "the ensemble system contains NaN or infinite entries (a forward evaluation returned non-finite values)",
    );
  const x = new Float64Array(k);
  const work = Float64Array.from(a);
  if (factorInPlace(work, k)) {
    choleskySolve(work, k, b, x);
    return { x, method: "cholesky", jitter: 0, rank: k };
  }
  let trace = 0;
  for (let i = 0; i < k; i++) trace += Math.abs(a[i * k + i]);
  // jitter is relative to the matrix; a zero matrix goes straight to the pseudo-inverse (zero step)
  const scale = trace / k;
  const steps = trace > 0 ? (opts.jitterSteps ?? 4) : 0;
  for (let t = 0; t < steps; t++) {
    const tau = 1e-12 * scale * Math.pow(100, t);
    work.set(a);
    for (let i = 0; i < k; i++) work[i * k + i] += tau;
    if (factorInPlace(work, k)) {
      choleskySolve(work, k, b, x);
      if (allFinite(x)) return { x, method: "jitter", jitter: tau, rank: k };
    }
  }
  const { values, vectors } = symmetricEigen(a, k);
  let maxAbs = 0;
  for (let i = 0; i < k; i++) maxAbs = Math.max(maxAbs, Math.abs(values[i]));
  const cutoff = k * 2.220446049250313e-16 * maxAbs;
  let rank = 0;
  for (let e = 0; e < k; e++) {
    const lam = values[e];
    if (!(lam > cutoff)) continue;
    rank++;
    let proj = 0;
    for (let i = 0; i < k; i++) proj += vectors[i * k + e] * b[i];
    const coef = proj / lam;
    for (let i = 0; i < k; i++) x[i] += coef * vectors[i * k + e];
  }
  if (!allFinite(x))
    throw new LinearSolveError(
      "the ensemble system could not be solved: the pseudo-inverse produced non-finite values",
    );
  return { x, method: "pseudo-inverse", jitter: 0, rank };
}
