// K×K solver: Cholesky on SPD systems, fallbacks on singular ones, clear errors on NaN.
import { describe, expect, it } from "vitest";
import { LinearSolveError, solveSymmetric, symmetricEigen } from "../../shared/math/linalg.ts";
import { fitLine } from "../../shared/math/stats.ts";
import { fillGaussian, Stream } from "../../shared/math/rng.ts";

function randomMatrix(rows: number, cols: number, seed: number): Float64Array {
  const a = new Float64Array(rows * cols);
  fillGaussian(a, { seed, stream: Stream.problem, iteration: 0, member: 0 });
  return a;
}

/** QᵀQ for Q (rows×k) row-major */
function gram(q: Float64Array, rows: number, k: number): Float64Array {
  const g = new Float64Array(k * k);
  for (let a = 0; a < k; a++)
    for (let b = 0; b < k; b++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += q[r * k + a] * q[r * k + b];
      g[a * k + b] = s;
    }
  return g;
}

function residual(a: Float64Array, x: Float64Array, b: Float64Array, k: number): number {
  let r2 = 0,
    b2 = 0;
  for (let i = 0; i < k; i++) {
    let s = -b[i];
    for (let j = 0; j < k; j++) s += a[i * k + j] * x[j];
    r2 += s * s;
    b2 += b[i] * b[i];
  }
  return Math.sqrt(r2 / b2);
}

describe("solveSymmetric", () => {
  it("solves a well-conditioned SPD system by Cholesky", () => {
    const k = 30;
    const a = gram(randomMatrix(60, k, 1), 60, k);
    const b = randomMatrix(1, k, 2);
    const r = solveSymmetric(a, b, k);
    expect(r.method).toBe("cholesky");
    expect(residual(a, r.x, b, k)).toBeLessThan(1e-12);
  });

  it("falls back for a singular PSD system and still solves consistent right-hand sides", () => {
    const k = 20,
      rows = 8; // rank 8 < 20
    const q = randomMatrix(rows, k, 3);
    const a = gram(q, rows, k);
    // b = Qᵀv lies in the range of A
    const v = randomMatrix(1, rows, 4);
    const b = new Float64Array(k);
    for (let j = 0; j < k; j++) for (let r = 0; r < rows; r++) b[j] += q[r * k + j] * v[r];
    const r = solveSymmetric(a, b, k);
    expect(r.method).not.toBe("cholesky");
    expect(residual(a, r.x, b, k)).toBeLessThan(1e-5);
  });

  it("uses the pseudo-inverse for the zero matrix and returns the zero step", () => {
    const r = solveSymmetric(new Float64Array(9), Float64Array.of(1, 2, 3), 3);
    expect(r.method).toBe("pseudo-inverse");
    expect(r.rank).toBe(0);
    expect(Array.from(r.x)).toEqual([0, 0, 0]);
  });

  it("refuses NaN and mismatched inputs with a clear error", () => {
    const a = Float64Array.of(1, 0, 0, NaN);
    expect(() => solveSymmetric(a, Float64Array.of(1, 1), 2)).toThrow(LinearSolveError);
    expect(() => solveSymmetric(a, Float64Array.of(1, 1), 2)).toThrow(/non-finite/);
    expect(() => solveSymmetric(new Float64Array(4), Float64Array.of(1), 2)).toThrow(/dimension mismatch/);
  });
});

describe("symmetricEigen", () => {
  it("reconstructs the matrix from orthonormal eigenvectors", () => {
    const k = 12;
    const a = gram(randomMatrix(15, k, 5), 15, k);
    const { values, vectors } = symmetricEigen(a, k);
    let err = 0,
      orth = 0;
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++) {
        let s = 0,
          o = 0;
        for (let e = 0; e < k; e++) {
          s += vectors[i * k + e] * values[e] * vectors[j * k + e];
          o += vectors[e * k + i] * vectors[e * k + j];
        }
        err = Math.max(err, Math.abs(s - a[i * k + j]));
        orth = Math.max(orth, Math.abs(o - (i === j ? 1 : 0)));
      }
    expect(err).toBeLessThan(1e-9);
    expect(orth).toBeLessThan(1e-12);
  });
});

describe("fitLine", () => {
  it("recovers slope and intercept of an exact line", () => {
    const f = fitLine([0, 1, 2, 3], [1, 3, 5, 7]);
    expect(f.slope).toBeCloseTo(2, 12);
    expect(f.intercept).toBeCloseTo(1, 12);
    expect(f.r2).toBeCloseTo(1, 12);
  });
});

import { accumulateGram } from "../../shared/math/gram.ts";

describe("accumulateGram", () => {
  it.each([1, 2, 3, 4, 5, 7, 8, 9, 13])("equals the pairwise definition for K = %i, with and without weights", (k) => {
    const len = 37;
    const q = randomMatrix(k, len, 30 + k);
    const w = randomMatrix(1, len, 60 + k).map((v) => v * v);
    for (const weights of [null, w]) {
      const g = new Float64Array(k * k).fill(0.5); // accumulates onto what is there
      accumulateGram(q, k, len, weights, g, -2);
      for (let a = 0; a < k; a++)
        for (let b = 0; b < k; b++) {
          let s = 0;
          for (let r = 0; r < len; r++) s += (weights ? weights[r] : 1) * q[a * len + r] * q[b * len + r];
          expect(g[a * k + b]).toBeCloseTo(0.5 - 2 * s, 10);
        }
    }
  });
});
