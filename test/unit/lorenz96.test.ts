// Lorenz-96 and the bounded-parameter transforms (the first pieces of issue 16's inverse
// problems). Checked against facts from outside this code: the tendency written out by hand, the
// fourth order of Runge–Kutta, the known climate of the F = 8 system (mean ≈ 2.3, variance ≈ 13,
// e.g. Lorenz & Emanuel 1998; Majda et al.), and the moments of a lognormal by sampling.
import { describe, expect, it } from "vitest";
import {
  lorenz96Initial,
  lorenz96Scratch,
  lorenz96Statistics,
  lorenz96Step,
  lorenz96Tendency,
} from "../../shared/simulators/lorenz96.ts";
import { BoundsError, checkBounds, constrain, constrainedGaussian, unconstrain } from "../../shared/math/constrain.ts";

describe("Lorenz-96", () => {
  it("has the tendency α(x_{i+1} − x_{i−2})x_{i−1} − x_i + F with cyclic indices", () => {
    const x = Float64Array.from([1, 2, 3, 4, 5]);
    const out = new Float64Array(5);
    lorenz96Tendency(x, { forcing: 8, coupling: 0.5 }, out);
    // i = 0: x1 = 2, x_{−1} = x4 = 5, x_{−2} = x3 = 4
    expect(out[0]).toBeCloseTo(0.5 * (2 - 4) * 5 - 1 + 8, 14);
    // i = 4: x5 = x0 = 1, x3 = 4, x2 = 3
    expect(out[4]).toBeCloseTo(0.5 * (1 - 3) * 4 - 5 + 8, 14);
  });

  it("integrates with fourth-order Runge–Kutta: halving the step cuts the error about 16 times", () => {
    const p = { forcing: 8, coupling: 1 };
    const run = (dt: number, T: number) => {
      const x = lorenz96Initial(40),
        s = lorenz96Scratch(40);
      for (let t = 0; t < Math.round(T / dt); t++) lorenz96Step(x, p, dt, s);
      return x;
    };
    const ref = run(0.0005, 0.4),
      a = run(0.008, 0.4),
      b = run(0.004, 0.4);
    const err = (x: Float64Array) => Math.sqrt(x.reduce((s, v, i) => s + (v - ref[i]) ** 2, 0));
    const ratio = err(a) / err(b);
    expect(ratio).toBeGreaterThan(12);
    expect(ratio).toBeLessThan(20);
  });

  it("reproduces the known climate of F = 8: mean ≈ 2.3 and variance ≈ 13 per variable", () => {
    const n = 40,
      out = new Float64Array(4);
    lorenz96Statistics({ forcing: 8, coupling: 1 }, { variables: n, dt: 0.01, spinup: 1000, steps: 20_000 }, out);
    const mean = out[0],
      variance = out[1] - out[0] ** 2;
    expect(mean).toBeGreaterThan(2.1);
    expect(mean).toBeLessThan(2.6);
    expect(variance).toBeGreaterThan(11);
    expect(variance).toBeLessThan(15);
    // the same parameters give the same statistics, bit for bit
    // the neighbours' products: covariances no larger than the variance (Cauchy–Schwarz)
    for (const c of [out[2], out[3]]) expect(Math.abs(c - mean ** 2)).toBeLessThan(variance);
    const again = new Float64Array(4);
    lorenz96Statistics({ forcing: 8, coupling: 1 }, { variables: n, dt: 0.01, spinup: 1000, steps: 20_000 }, again);
    expect(Array.from(again)).toEqual(Array.from(out));
  });

  it(
    "settles to the fixed point x = F with the forcing below chaos, and gives NaN statistics " +
      "when the trajectory blows up",
    () => {
      const n = 8,
        out = new Float64Array(4);
      lorenz96Statistics({ forcing: 0.5, coupling: 1 }, { variables: n, dt: 0.01, spinup: 5000, steps: 1000 }, out);
      expect(out[0]).toBeCloseTo(0.5, 6);
      for (let k = 1; k < 4; k++) expect(out[k]).toBeCloseTo(0.25, 6);
      lorenz96Statistics({ forcing: 8, coupling: 1 }, { variables: n, dt: 2, spinup: 50, steps: 10 }, out);
      expect(out.every(Number.isNaN)).toBe(true);
      expect(() =>
        lorenz96Statistics(
          { forcing: 8, coupling: 1 },
          { variables: 3, dt: 0.01, spinup: 0, steps: 1 },
          new Float64Array(4),
        ),
      ).toThrow(RangeError);
    },
  );
});

describe("bounded parameters", () => {
  const cases = [
    { lower: 0, upper: null },
    { lower: null, upper: 3 },
    { lower: -1, upper: 4 },
    { lower: null, upper: null },
  ];

  it("map every θ into the bounds and back", () => {
    for (const b of cases) {
      for (const t of [-30, -2.5, 0, 0.7, 12]) {
        const u = constrain(t, b);
        if (b.lower !== null) expect(u).toBeGreaterThanOrEqual(b.lower);
        if (b.upper !== null) expect(u).toBeLessThanOrEqual(b.upper);
        if (Math.abs(t) < 15) expect(unconstrain(u, b)).toBeCloseTo(t, 8);
      }
    }
    expect(() => unconstrain(-1, { lower: 0, upper: null })).toThrow(BoundsError);
  });

  it("refuse a lower bound above the upper one, and a prior outside the bounds", () => {
    expect(() => checkBounds({ lower: 2, upper: 1 }, "parameters[0].bounds")).toThrow(
      /parameters\[0\]\.bounds: the lower bound 2 is not below the upper bound 1/,
    );
    expect(() => constrainedGaussian(-1, 1, { lower: 0, upper: null }, "parameters[1]")).toThrow(
      /mean -1 is not strictly inside/,
    );
    expect(() => constrainedGaussian(1, 0, { lower: 0, upper: null }, "parameters[1]")).toThrow(/std 0/);
  });

  it(
    "turn a prior in constrained units into a Gaussian in θ whose pushforward has that mean " +
      "and std (one bound: exactly)",
    () => {
      // sampled with a fixed linear-congruential Box–Muller, independent of the service's RNG
      let s = 7;
      const unif = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
      const gauss = () => Math.sqrt(-2 * Math.log(unif())) * Math.cos(2 * Math.PI * unif());
      for (const [mean, std, b, tol] of [
        [8, 2, { lower: 0, upper: null }, 0.02],
        [1, 0.5, { lower: null, upper: 3 }, 0.02],
        [1.5, 0.3, { lower: -1, upper: 4 }, 0.05],
      ] as const) {
        const g = constrainedGaussian(mean, std, b, "p");
        let m = 0,
          q = 0;
        const N = 200_000;
        for (let i = 0; i < N; i++) {
          const u = constrain(g.mean + g.std * gauss(), b);
          m += u;
          q += u * u;
        }
        m /= N;
        const sd = Math.sqrt(q / N - m * m);
        expect(Math.abs(m - mean) / mean).toBeLessThan(tol);
        expect(Math.abs(sd - std) / std).toBeLessThan(tol * 3);
      }
    },
  );
});
