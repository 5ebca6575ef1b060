// Losses: gradients against finite differences, and QᵀWQ / Qᵀg against explicitly formed W.
import { describe, expect, it } from "vitest";
import { leastSquares } from "../../shared/losses/leastSquares.ts";
import { crossEntropy } from "../../shared/losses/crossEntropy.ts";
import type { OutputLoss } from "../../shared/losses/types.ts";
import { fillGaussian, Stream } from "../../shared/math/rng.ts";

function gaussian(n: number, member: number, scale = 1): Float64Array {
  const a = new Float64Array(n);
  fillGaussian(a, { seed: 17, stream: Stream.problem, iteration: 1, member }, 0, n, 0, scale);
  return a;
}

function fdGradient(loss: OutputLoss, f: Float64Array): Float64Array {
  const g = new Float64Array(f.length);
  const h = 1e-6;
  for (let r = 0; r < f.length; r++) {
    const p = Float64Array.from(f);
    p[r] += h;
    const m = Float64Array.from(f);
    m[r] -= h;
    g[r] = (loss.value(p) - loss.value(m)) / (2 * h);
  }
  return g;
}

function fdHessian(loss: OutputLoss, f: Float64Array): Float64Array {
  const n = f.length,
    h = 1e-4;
  const H = new Float64Array(n * n);
  for (let a = 0; a < n; a++)
    for (let b = 0; b < n; b++) {
      const x = (da: number, db: number) => {
        const y = Float64Array.from(f);
        y[a] += da;
        y[b] += db;
        return loss.value(y);
      };
      H[a * n + b] = (x(h, h) - x(h, -h) - x(-h, h) + x(-h, -h)) / (4 * h * h);
    }
  return H;
}

/** Explicit QᵀWQ and Qᵀg for member-major Q (k×M) and a dense W (M×M). */
function explicit(q: Float64Array, k: number, w: Float64Array, g: Float64Array) {
  const m = g.length;
  const G = new Float64Array(k * k),
    b = new Float64Array(k);
  for (let a = 0; a < k; a++) {
    for (let r = 0; r < m; r++) b[a] += q[a * m + r] * g[r];
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let r = 0; r < m; r++) for (let t = 0; t < m; t++) s += q[a * m + r] * w[r * m + t] * q[c * m + t];
      G[a * k + c] = s;
    }
  }
  return { G, b };
}

function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** The loss's QᵀWQ and Qᵀg equal those formed with W and g taken by finite differences of its value. */
function expectGaussNewtonOfHessian(
  loss: OutputLoss,
  f: Float64Array,
  q: Float64Array,
  k: number,
  rhsTol: number,
): void {
  const want = explicit(q, k, fdHessian(loss, f), fdGradient(loss, f));
  const G = new Float64Array(k * k),
    b = new Float64Array(k);
  loss.gaussNewton(f, q, k, G, b);
  expect(maxAbsDiff(G, want.G) / maxAbsDiff(want.G, new Float64Array(k * k))).toBeLessThan(1e-5);
  expect(maxAbsDiff(b, want.b)).toBeLessThan(rhsTol);
}

describe("least squares", () => {
  const M = 12,
    K = 5;
  const y = gaussian(M, 0),
    f = gaussian(M, 1),
    q = gaussian(K * M, 2);
  const w = gaussian(M, 3).map((v) => 0.5 + v * v);
  const loss = leastSquares(y, { weights: w, scale: 0.7 });

  it("has the gradient of its value", () => {
    const g = new Float64Array(M);
    const phi = loss.gradient(f, g);
    expect(phi).toBeCloseTo(loss.value(f), 12);
    expect(maxAbsDiff(g, fdGradient(loss, f))).toBeLessThan(1e-6);
  });

  it("forms QᵀWQ and Qᵀg with W = scale·diag(w), the Hessian of its value", () => {
    expectGaussNewtonOfHessian(loss, f, q, K, 1e-5);
  });
});

describe("softmax cross-entropy", () => {
  const m = 4,
    C = 3,
    K = 4,
    M = m * C;
  const labels = Int32Array.of(0, 2, 1, 2);
  const f = gaussian(M, 4, 2),
    q = gaussian(K * M, 5);
  const loss = crossEntropy(labels, C);

  it("is the mean negative log-likelihood of the labels", () => {
    let want = 0;
    for (let i = 0; i < m; i++) {
      let z = 0;
      for (let c = 0; c < C; c++) z += Math.exp(f[i * C + c]);
      want -= Math.log(Math.exp(f[i * C + labels[i]]) / z);
    }
    expect(loss.value(f)).toBeCloseTo(want / m, 12);
  });

  it("has the gradient softmax − onehot (scaled by 1/m)", () => {
    const g = new Float64Array(M);
    loss.gradient(f, g);
    expect(maxAbsDiff(g, fdGradient(loss, f))).toBeLessThan(1e-7);
  });

  it("forms QᵀWQ with W = blockdiag(diag(p) − ppᵀ)/m, the exact Hessian, without forming W", () => {
    expectGaussNewtonOfHessian(loss, f, q, K, 1e-6);
  });

  it("stays finite for huge logits", () => {
    const big = Float64Array.from(f, (v) => v * 1e4);
    expect(Number.isFinite(loss.value(big))).toBe(true);
  });

  it("rejects labels outside the classes", () => {
    expect(() => crossEntropy(Int32Array.of(0, 3), 3)).toThrow(/label 3/);
  });
});
