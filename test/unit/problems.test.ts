// Built-in problems: known minimisers, exact gradients against finite differences, and the
// quadratic's Hessian spectrum recovered from forward evaluations alone.
import { describe, expect, it } from "vitest";
import { quadratic } from "../../shared/problems/quadratic.ts";
import { oscillatory } from "../../shared/problems/oscillatory.ts";
import { rosenbrock } from "../../shared/problems/rosenbrock.ts";
import { objective, objectiveGradient, gradientWorkspace } from "../../shared/problems/objective.ts";
import type { Problem } from "../../shared/problems/types.ts";
import { symmetricEigen } from "../../shared/math/linalg.ts";
import { fillGaussian, Stream } from "../../shared/math/rng.ts";

function checkGradient(p: Problem, theta: Float64Array, alpha = 0): number {
  const n = p.dimension;
  const grad = new Float64Array(n);
  objectiveGradient(p, theta, grad, gradientWorkspace(p), alpha);
  const f = new Float64Array(p.outputSize);
  let err = 0,
    scale = 0;
  const h = 1e-6;
  for (let i = 0; i < n; i++) {
    const a = Float64Array.from(theta);
    a[i] += h;
    const b = Float64Array.from(theta);
    b[i] -= h;
    const fd = (objective(p, a, f, alpha) - objective(p, b, f, alpha)) / (2 * h);
    err = Math.max(err, Math.abs(fd - grad[i]));
    scale = Math.max(scale, Math.abs(grad[i]));
  }
  return err / Math.max(scale, 1);
}

function randomPoint(n: number, seed: number, scale = 1): Float64Array {
  const x = new Float64Array(n);
  fillGaussian(x, { seed, stream: Stream.problem, iteration: 9, member: 0 }, 0, n, 0, scale);
  return x;
}

describe("quadratic", () => {
  it("has Φ(θ*) = 0 and an exact gradient", () => {
    const p = quadratic({ dimension: 20, condition: 50, seed: 3 });
    const f = new Float64Array(p.outputSize);
    expect(objective(p, p.solution!, f)).toBeLessThan(1e-24);
    expect(checkGradient(p, randomPoint(20, 1))).toBeLessThan(1e-6);
    expect(checkGradient(p, randomPoint(20, 1), 0.3)).toBeLessThan(1e-6);
  });

  it.each(["harmonic", "geometric", "linear"] as const)(
    "has the requested condition number with the %s spectrum",
    (spectrum) => {
      const n = 24,
        kappa = 100;
      const p = quadratic({ dimension: n, condition: kappa, seed: 5, spectrum });
      // F is linear: its Jacobian column i is F(e_i) − F(0); Hessian = JᵀJ
      const J = new Float64Array(n * n),
        f0 = new Float64Array(n),
        fi = new Float64Array(n);
      p.forward(new Float64Array(n), f0);
      for (let i = 0; i < n; i++) {
        const e = new Float64Array(n);
        e[i] = 1;
        p.forward(e, fi);
        for (let r = 0; r < n; r++) J[r * n + i] = fi[r] - f0[r];
      }
      const H = new Float64Array(n * n);
      for (let a = 0; a < n; a++)
        for (let b = 0; b < n; b++) {
          let s = 0;
          for (let r = 0; r < n; r++) s += J[r * n + a] * J[r * n + b];
          H[a * n + b] = s;
        }
      const lam = Array.from(symmetricEigen(H, n).values).sort((x, y) => x - y);
      expect(lam[0]).toBeCloseTo(1, 9);
      expect(lam[n - 1]).toBeCloseTo(kappa, 7);
      // shape: harmonic has 1/λ evenly spaced, geometric has log λ evenly spaced, linear λ evenly spaced
      const t = spectrum === "harmonic" ? lam.map((l) => 1 / l) : spectrum === "geometric" ? lam.map(Math.log) : lam;
      const steps = t.slice(1).map((v, i) => v - t[i]);
      expect(Math.max(...steps) - Math.min(...steps)).toBeLessThan(1e-8 * Math.max(...t.map(Math.abs)));
    },
  );
});

describe("oscillatory", () => {
  const p = oscillatory({ dimension: 6, amplitude: 10, frequency: 1, seed: 4, start: 3.2 });
  it("has its global minimum 0 at c and local minima near the lattice points", () => {
    const f = new Float64Array(p.outputSize);
    expect(objective(p, p.solution!, f)).toBe(0);
    // moving one coordinate by ±1 (and relaxing it) lands on a local minimum with Φ ≈ ½
    const x = Float64Array.from(p.solution!);
    x[0] += 1;
    const g = new Float64Array(6);
    const ws = gradientWorkspace(p);
    for (let it = 0; it < 200; it++) {
      objectiveGradient(p, x, g, ws);
      for (let i = 0; i < 6; i++) x[i] -= 0.002 * g[i];
    }
    const phi = objectiveGradient(p, x, g, ws);
    expect(Math.hypot(...g)).toBeLessThan(1e-6);
    expect(phi).toBeGreaterThan(0.4);
  });
  it("has an exact gradient", () => {
    expect(checkGradient(p, randomPoint(6, 2, 2))).toBeLessThan(1e-6);
  });
  it("starts at c + start", () => {
    const x0 = p.initial();
    expect(x0[3] - p.solution![3]).toBeCloseTo(3.2, 12);
  });
});

describe("rosenbrock", () => {
  it("has Φ(1) = 0, the classic start and an exact gradient", () => {
    const p = rosenbrock({ dimension: 5 });
    const f = new Float64Array(p.outputSize);
    expect(objective(p, new Float64Array(5).fill(1), f)).toBe(0);
    expect(Array.from(p.initial())).toEqual([-1.2, 1, -1.2, 1, -1.2]);
    // ½(100(1 − 1.44)² + 2.2²) per link for the 2-D case
    expect(objective(rosenbrock({ dimension: 2 }), Float64Array.of(-1.2, 1), new Float64Array(2))).toBeCloseTo(
      0.5 * (100 * 0.44 ** 2 + 2.2 ** 2),
      12,
    );
    expect(checkGradient(p, randomPoint(5, 3))).toBeLessThan(1e-6);
  });
  it("needs at least two dimensions", () => {
    expect(() => rosenbrock({ dimension: 1 })).toThrow(/dimension/);
  });
});
