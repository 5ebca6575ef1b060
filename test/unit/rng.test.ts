// Counter-based RNG: known-answer vectors, regeneration of single columns, and statistical sanity.
import { describe, expect, it } from "vitest";
import { philox4x32 } from "../../shared/math/philox.ts";
import { expSmall, logPositive, logUniform32 } from "../../shared/math/fastMath.ts";
import {
  fillGaussian,
  fillGaussianJs,
  fillRademacher,
  fillUniform,
  Stream,
  type StreamCoordinates,
} from "../../shared/math/rng.ts";
import { perturbation } from "../../shared/math/perturbation.ts";
import { ensembleStatistics, ensembleWorkspace } from "../../shared/kernels/reference.ts";
import { quadratic } from "../../shared/problems/quadratic.ts";

describe("Philox4x32-10", () => {
  // Known-answer vectors published with Random123 (kat_vectors): counter[4], key[2] -> output[4].
  const kat: [number[], number[], number[]][] = [
    [
      [0, 0, 0, 0],
      [0, 0],
      [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8],
    ],
    [
      [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
      [0xffffffff, 0xffffffff],
      [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
    ],
    [
      [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
      [0xa4093822, 0x299f31d0],
      [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
    ],
  ];
  it.each(kat)("matches the published vector for counter %j key %j", (c, k, want) => {
    const out = new Uint32Array(4);
    philox4x32(c[0], c[1], c[2], c[3], k[0], k[1], out);
    expect(Array.from(out)).toEqual(want);
  });
});

function stats(x: Float64Array) {
  let m = 0;
  for (const v of x) m += v;
  m /= x.length;
  let v2 = 0,
    v4 = 0;
  for (const v of x) {
    const d = v - m;
    v2 += d * d;
    v4 += d * d * d * d;
  }
  v2 /= x.length;
  v4 /= x.length;
  return { mean: m, variance: v2, kurtosis: v4 / (v2 * v2) };
}

/** erf by its Taylor series (|x| < 3) or continued fraction (|x| ≥ 3), to ~1e-15. */
function erf(x: number): number {
  const a = Math.abs(x);
  let r: number;
  if (a < 3) {
    let term = a,
      sum = a;
    for (let n = 1; n < 200; n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    // erfc(a) = exp(−a²)/√π · 1/(a + 1/2/(a + 1/(a + 3/2/(a + …))))
    let f = a;
    for (let k = 60; k >= 1; k--) f = a + k / 2 / f;
    r = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
  }
  return x < 0 ? -r : r;
}

function correlation(a: Float64Array, b: Float64Array): number {
  const sa = stats(a),
    sb = stats(b);
  let c = 0;
  for (let i = 0; i < a.length; i++) c += (a[i] - sa.mean) * (b[i] - sb.mean);
  return c / a.length / Math.sqrt(sa.variance * sb.variance);
}

const N = 400_000;
const base: StreamCoordinates = { seed: 12345, stream: Stream.perturbation, iteration: 7, member: 3 };

describe("Gaussian perturbations", () => {
  const z = new Float64Array(N);
  fillGaussian(z, base);
  it("have mean 0, variance 1 and normal tails", () => {
    const s = stats(z);
    expect(Math.abs(s.mean)).toBeLessThan(5 / Math.sqrt(N));
    expect(Math.abs(s.variance - 1)).toBeLessThan(5 * Math.sqrt(2 / N));
    expect(Math.abs(s.kurtosis - 3)).toBeLessThan(0.05);
    let beyond2 = 0;
    for (const v of z) if (Math.abs(v) > 2) beyond2++;
    // P(|Z| > 2) = 0.0455
    expect(Math.abs(beyond2 / N - 0.0455)).toBeLessThan(0.002);
  });

  it("follow the normal distribution function (Kolmogorov–Smirnov) and its tails", () => {
    // Φ from an independent erf (Abramowitz–Stegun 7.1.26 is too coarse; use the series/continued fraction)
    const cdf = (x: number) => 0.5 * (1 + erf(x / Math.SQRT2));
    const sorted = Float64Array.from(z).sort();
    let d = 0;
    for (let i = 0; i < N; i++) {
      const f = cdf(sorted[i]);
      d = Math.max(d, Math.abs(f - i / N), Math.abs(f - (i + 1) / N));
    }
    // the 1% critical value of the KS statistic is 1.63/√N
    expect(d).toBeLessThan(1.63 / Math.sqrt(N));
    // the ziggurat's tail (|z| > 3.6542, the base layer's edge) and beyond: counts within 5 standard deviations
    for (const t of [3, 3.6542, 4]) {
      const p = 2 * (1 - cdf(t));
      let count = 0;
      for (const v of z) if (Math.abs(v) > t) count++;
      expect(Math.abs(count - N * p)).toBeLessThan(5 * Math.sqrt(N * p));
    }
    // no value is exactly repeated in bulk (24-bit magnitudes) and all are finite
    expect(z.every(Number.isFinite)).toBe(true);
    expect(new Set(z.subarray(0, 100_000)).size).toBeGreaterThan(99_000);
  });

  it("use a log and exp accurate to 1e-14 over their domains' edges and interior", () => {
    const words = [0, 1, 2, 3, 255, 2 ** 16, 2 ** 29 - 1, 2 ** 29, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1];
    const u = new Float64Array(20000);
    fillUniform(u, base);
    for (const v of u) words.push(Math.floor(v * 2 ** 32));
    let logErr = 0,
      log2Err = 0,
      expErr = 0;
    for (const w of words) {
      const want = Math.log((w + 0.5) / 2 ** 32);
      logErr = Math.max(logErr, Math.abs(logUniform32(w) - want) / Math.abs(want));
    }
    for (const v of u) {
      const y = 1e-6 + v * 10,
        x = -39 + v * 78;
      log2Err = Math.max(log2Err, Math.abs(logPositive(y) - Math.log(y)) / Math.max(1, Math.abs(Math.log(y))));
      expErr = Math.max(expErr, Math.abs(expSmall(x) - Math.exp(x)) / Math.exp(x));
    }
    for (const y of [2 ** -59, 0.5, 1, Math.SQRT2, 2 ** 59])
      log2Err = Math.max(log2Err, Math.abs(logPositive(y) - Math.log(y)) / Math.max(1, Math.abs(Math.log(y))));
    for (const x of [-39.9, -1e-300, 0, 1e-300, 39.9])
      expErr = Math.max(expErr, Math.abs(expSmall(x) - Math.exp(x)) / Math.exp(x));
    expect(logErr).toBeLessThan(1e-14);
    expect(log2Err).toBeLessThan(1e-14);
    expect(expErr).toBeLessThan(1e-14);
    expect(() => expSmall(50)).toThrow(RangeError);
    expect(() => logPositive(0)).toThrow(RangeError);
  });

  it("streams are uncorrelated across members, iterations, seeds, purposes and lags", () => {
    const bound = 5 / Math.sqrt(N);
    const other = (c: Partial<typeof base>) => {
      const o = new Float64Array(N);
      fillGaussian(o, { ...base, ...c });
      return o;
    };
    expect(Math.abs(correlation(z, other({ member: 4 })))).toBeLessThan(bound);
    expect(Math.abs(correlation(z, other({ iteration: 8 })))).toBeLessThan(bound);
    expect(Math.abs(correlation(z, other({ seed: 12346 })))).toBeLessThan(bound);
    expect(Math.abs(correlation(z, other({ stream: Stream.ensembleInit })))).toBeLessThan(bound);
    for (const lag of [1, 2, 3, 4, 5]) {
      expect(Math.abs(correlation(z.subarray(0, N - lag), z.subarray(lag)))).toBeLessThan(bound);
    }
    // squares too: |z| must not be correlated between neighbouring words of a block
    const sq = z.map((v) => v * v);
    expect(Math.abs(correlation(sq.subarray(0, N - 1), sq.subarray(1)))).toBeLessThan(bound);
  });

  it("any index range regenerates the same bits as the whole stream, at any scale", () => {
    const scaled = new Float64Array(2000);
    fillGaussian(scaled, base, 0, 2000, 0, 0.0137);
    for (const [start, count] of [
      [0, 1],
      [1, 3],
      [3, 9],
      [997, 1000],
      [N - 5, 5],
    ]) {
      const part = new Float64Array(count);
      fillGaussian(part, base, start, count);
      expect(part).toEqual(z.subarray(start, start + count));
      if (start + count <= 2000) {
        fillGaussian(part, base, start, count, 0, 0.0137);
        expect(part).toEqual(scaled.subarray(start, start + count));
      }
    }
  });
});

describe("Rademacher perturbations", () => {
  it("are ±1 with mean 0 and uncorrelated neighbours", () => {
    const r = new Float64Array(N);
    fillRademacher(r, base);
    let plus = 0,
      notUnit = 0;
    for (const v of r) {
      if (Math.abs(v) !== 1) notUnit++;
      if (v > 0) plus++;
    }
    expect(notUnit).toBe(0);
    expect(Math.abs(plus / N - 0.5)).toBeLessThan(2.5 / Math.sqrt(N));
    expect(Math.abs(correlation(r.subarray(0, N - 1), r.subarray(1)))).toBeLessThan(5 / Math.sqrt(N));
    const other = new Float64Array(N);
    fillRademacher(other, { ...base, member: 4 });
    expect(Math.abs(correlation(r, other))).toBeLessThan(5 / Math.sqrt(N));
    const part = new Float64Array(300);
    fillRademacher(part, base, 100, 300);
    expect(part).toEqual(r.subarray(100, 400));
  });
});

describe("uniforms", () => {
  it("lie in [0, 1) with mean 1/2 and variance 1/12", () => {
    const u = new Float64Array(N);
    fillUniform(u, base);
    let outside = 0;
    for (const v of u) if (!(v >= 0 && v < 1)) outside++;
    expect(outside).toBe(0);
    const s = stats(u);
    expect(Math.abs(s.mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / N));
    expect(Math.abs(s.variance - 1 / 12)).toBeLessThan(1e-3);
  });
});

describe("regenerating a perturbation column", () => {
  it("column ω_j generated alone equals the same column of the full ensemble the optimizer drew", () => {
    const problem = quadratic({ dimension: 37, condition: 10, seed: 2 });
    const K = 9;
    const ws = ensembleWorkspace(problem, K);
    const theta = problem.initial();
    const f0 = new Float64Array(problem.outputSize);
    problem.forward(theta, f0);
    for (const kind of ["gaussian", "rademacher"] as const) {
      const draw = { sigma: 0.3, kind, seed: 99, iteration: 5 };
      ensembleStatistics(problem, theta, f0, draw, ws);
      for (const j of [0, 4, 8]) {
        const alone = new Float64Array(37);
        perturbation(draw, j, alone);
        expect(alone).toEqual(ws.omega.subarray(j * 37, (j + 1) * 37));
      }
    }
  });

  it("rejects seeds and coordinates outside the counter range", () => {
    const out = new Float64Array(4);
    expect(() => fillGaussian(out, { ...base, seed: -1 })).toThrow(/seed/);
    expect(() => fillGaussian(out, { ...base, seed: 1.5 })).toThrow(/seed/);
    expect(() => fillGaussian(out, { ...base, member: 2 ** 32 })).toThrow(/member/);
  });
});

describe("the WebAssembly generator", () => {
  it("gives the JavaScript path's bits for any range, seed and scale", () => {
    const n = 50_003;
    const a = new Float64Array(n),
      b = new Float64Array(n);
    const cases: [StreamCoordinates, number, number, number][] = [
      [{ seed: 0, stream: 0, iteration: 0, member: 0 }, 0, n, 1],
      [{ seed: 12345, stream: Stream.perturbation, iteration: 99, member: 7 }, 5, n - 9, 0.01],
      [
        { seed: 2 ** 40 + 3, stream: Stream.batch, iteration: 4_000_000_000, member: 2 ** 32 - 1 },
        2 ** 33 + 1,
        n - 3,
        2.5,
      ],
    ];
    let mismatches = 0;
    for (const [c, start, count, scale] of cases) {
      fillGaussian(a, c, start, count, 0, scale);
      fillGaussianJs(b, c, start, count, 0, scale);
      for (let i = 0; i < count; i++) if (!Object.is(a[i], b[i])) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it("is embedded exactly as philox.wat assembles", async () => {
    const { assemblePhilox, philoxModuleSource } = await import("../../scripts/build-wasm.ts");
    const { readFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const committed = readFileSync(join(import.meta.dirname, "..", "..", "shared", "math", "philoxWasm.ts"), "utf8");
    expect(committed).toBe(philoxModuleSource(await assemblePhilox()));
  });
});
