// The blocked Cholesky factorization in WebAssembly SIMD against the scalar one: the same factor
// and the same solve to 1e-12 relative on well-conditioned systems of every shape the blocking
// meets (a partial last block, odd rows, fewer rows than a block), the same bits on every call,
// and the same refusals.
import { describe, expect, it } from "vitest";
import { blockedCholeskyInPlace } from "../../shared/math/blockedCholesky.ts";
import { choleskyInPlace, choleskySolve, solveSymmetric } from "../../shared/math/linalg.ts";
import { relDiff } from "../support/synthetic.ts";

/** A symmetric positive definite K×K matrix: a rank-r Gram plus a ridge, from a seeded stream. */
function spd(k: number, r: number, ridge: number, seed = 1): Float64Array {
  let s = seed;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5;
  const q = Float64Array.from({ length: k * r }, rnd);
  const a = new Float64Array(k * k);
  for (let i = 0; i < k; i++)
    for (let j = 0; j <= i; j++) {
      let v = 0;
      for (let p = 0; p < r; p++) v += q[i * r + p] * q[j * r + p];
      a[i * k + j] = a[j * k + i] = v + (i === j ? ridge : 0);
    }
  return a;
}

describe("the blocked Cholesky factorization", () => {
  it.each([
    [1, 8],
    [5, 8],
    [37, 8],
    [64, 16],
    [130, 128],
    [300, 128],
  ])("K = %i in blocks of %i: the scalar factor and solve to 1e-12", (k, block) => {
    const a = spd(k, Math.min(k, 40), 1);
    const scalar = Float64Array.from(a),
      blocked = Float64Array.from(a);
    expect(choleskyInPlace(scalar, k)).toBe(true);
    expect(blockedCholeskyInPlace(blocked, k, block)).toBe(true);
    expect(relDiff(blocked, scalar)).toBeLessThan(1e-13);
    const b = Float64Array.from({ length: k }, (_, i) => 1 + Math.sin(i));
    const x = new Float64Array(k),
      y = new Float64Array(k);
    choleskySolve(scalar, k, b, x);
    choleskySolve(blocked, k, b, y);
    expect(relDiff(y, x)).toBeLessThan(1e-12);
    // the upper triangle is zeroed, as the scalar factorization leaves it
    for (let i = 0; i < k; i++) for (let j = i + 1; j < k; j++) expect(blocked[i * k + j]).toBe(0);
  });

  it("gives the same bits on every call, and solveSymmetric uses it from K = 256 on", () => {
    const k = 320,
      a = spd(k, 50, 0.5, 7);
    const once = Float64Array.from(a),
      twice = Float64Array.from(a);
    blockedCholeskyInPlace(once, k);
    blockedCholeskyInPlace(twice, k);
    expect(twice).toEqual(once);
    const b = Float64Array.from({ length: k }, (_, i) => Math.cos(i));
    const viaSolve = solveSymmetric(a, b, k);
    const x = new Float64Array(k);
    choleskySolve(once, k, b, x);
    expect(viaSolve.method).toBe("cholesky");
    expect(Array.from(viaSolve.x)).toEqual(Array.from(x));
  });

  it("refuses a matrix that is not positive definite, or not finite, as the scalar one does", () => {
    const k = 40;
    const indefinite = spd(k, 40, 1);
    indefinite[30 * k + 30] = -5;
    expect(blockedCholeskyInPlace(Float64Array.from(indefinite), k, 8)).toBe(false);
    expect(choleskyInPlace(Float64Array.from(indefinite), k)).toBe(false);
    const nan = spd(k, 40, 1);
    nan[12 * k + 12] = NaN;
    expect(blockedCholeskyInPlace(nan, k, 8)).toBe(false);
    const inf = spd(k, 40, 1);
    inf[3 * k + 3] = Infinity;
    expect(blockedCholeskyInPlace(inf, k, 8)).toBe(false);
    // rank-deficient (rank 10 of 300, no ridge): the jitter fallback still solves it
    const k2 = 300;
    const singular = spd(k2, 10, 0);
    const r = solveSymmetric(singular, new Float64Array(k2).fill(1), k2);
    expect(["jitter", "pseudo-inverse"]).toContain(r.method);
    expect(r.x.every(Number.isFinite)).toBe(true);
  });
});
