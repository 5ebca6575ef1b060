// A Gaussian posterior in the transformed θ (the Laplace posterior, laplacePosterior.ts) read in
// the parameters' own units (pure). Each parameter's transform u_j = c_j(θ_j) onto its bounds is
// monotone, so the marginal's 95% interval is exact: [c_j(m_j − 1.96 s_j), c_j(m_j + 1.96 s_j)]
// (swapped for a decreasing c_j). Its mean and standard deviation are integrals of c_j against
// N(m_j, s_j²): exact for an unbounded parameter, otherwise by the trapezoidal rule on ±10 s_j,
// which converges geometrically for such integrands. The correlations in the parameters' units need
// the joint law: they come from samples θ = m + L z, z drawn by the counter-based RNG.

import { constrain, type Bounds } from "../math/constrain.ts";
import { choleskyInPlace } from "../math/linalg.ts";
import { fillGaussian, Stream } from "../math/rng.ts";

/** The 97.5% quantile of the standard normal. */
export const Z95 = 1.959963984540054;

/** One parameter's posterior, in its units. */
export interface ParameterPosterior {
  /** u(θ*), the calibrated value (the posterior's mode in θ) */
  estimate: number;
  mean: number;
  std: number;
  /** the central 95% interval */
  interval: [number, number];
}

/** What a Laplace posterior reports (result.json's `posterior`). */
export interface PosteriorSummary {
  method: "laplace";
  parameters: Record<string, ParameterPosterior>;
  /** correlations in the parameters' units (sampled), names in θ's order */
  correlation: number[][];
  /** the Gaussian in the transformed (unbounded) θ: N(mean, covariance) */
  transformed: { mean: number[]; covariance: number[][] };
  /** how H was estimated: draws of `ensembleSize` members at scale σ */
  ensembleSize: number;
  draws: number;
  sigma: number;
  /** samples behind the correlations */
  samples: number;
}

/** What the sampler reports: its particles' marginals and correlations in the parameters' units. */
export interface SampleSummary {
  method: "eks";
  parameters: Record<string, ParameterPosterior>;
  correlation: number[][];
  /** J, the particles (samples.npy holds them, in the parameters' units) */
  ensembleSize: number;
}

/** A posterior that could not be formed, and why (the point estimate stands). */
export interface PosteriorUnavailable {
  method: "laplace";
  unavailable: string;
}

const NODES = 2001;

/** E[c(θ)] and E[c(θ)²] for θ ~ N(m, s²) by the trapezoidal rule on m ± 10 s. */
function moments(m: number, s: number, b: Bounds): { mean: number; std: number } {
  if (b.lower === null && b.upper === null) return { mean: m, std: s };
  const h = 20 / (NODES - 1);
  let w0 = 0,
    m1 = 0,
    m2 = 0;
  for (let i = 0; i < NODES; i++) {
    const z = -10 + i * h;
    const w = Math.exp(-0.5 * z * z) * (i === 0 || i === NODES - 1 ? 0.5 : 1);
    const u = constrain(m + s * z, b);
    w0 += w;
    m1 += w * u;
    m2 += w * u * u;
  }
  const mean = m1 / w0;
  return { mean, std: Math.sqrt(Math.max(0, m2 / w0 - mean * mean)) };
}

/**
 * `count` samples of N(mean, covariance) in the parameters' units (count × n, sample-major): sample
 * c is u(mean + L z_c), z_c from the counter-based RNG's posterior stream (the same for any reader).
 */
export function posteriorSamples(
  mean: Float64Array,
  covariance: Float64Array,
  bounds: readonly Bounds[],
  seed: number,
  count: number,
): Float64Array {
  const n = mean.length;
  const l = Float64Array.from(covariance);
  if (!choleskyInPlace(l, n)) throw new Error("the posterior covariance is not positive definite");
  const z = new Float64Array(n),
    out = new Float64Array(count * n);
  for (let c = 0; c < count; c++) {
    fillGaussian(z, { seed, stream: Stream.posterior, iteration: 0, member: c });
    for (let a = 0; a < n; a++) {
      let t = mean[a];
      for (let b = 0; b <= a; b++) t += l[a * n + b] * z[b];
      out[c * n + a] = constrain(t, bounds[a]);
    }
  }
  return out;
}

/** The correlation matrix of samples (count × n, sample-major). */
export function sampleCorrelation(samples: Float64Array, count: number, n: number): number[][] {
  const mean = new Float64Array(n);
  for (let c = 0; c < count; c++) for (let a = 0; a < n; a++) mean[a] += samples[c * n + a] / count;
  const cov = new Float64Array(n * n);
  for (let c = 0; c < count; c++)
    for (let a = 0; a < n; a++)
      for (let b = 0; b <= a; b++) cov[a * n + b] += (samples[c * n + a] - mean[a]) * (samples[c * n + b] - mean[b]);
  const at = (a: number, b: number) => cov[Math.max(a, b) * n + Math.min(a, b)];
  return Array.from({ length: n }, (_, a) =>
    Array.from({ length: n }, (_, b) => (a === b ? 1 : at(a, b) / Math.sqrt(at(a, a) * at(b, b)))),
  );
}

/**
 * The posterior N(θ*, C) in the parameters' units.
 *
 * @example
 * ```ts
 * const summary = summarizePosterior(theta, covariance, bounds, ["forcing", "coupling"], { seed: 1 });
 * summary.parameters.forcing.interval; // [7.9, 8.3]
 * ```
 */
export function summarizePosterior(
  theta: Float64Array,
  covariance: Float64Array,
  bounds: readonly Bounds[],
  names: readonly string[],
  how: { seed: number; samples?: number; ensembleSize: number; draws: number; sigma: number },
): PosteriorSummary {
  const n = theta.length;
  const samples = how.samples ?? 4000;
  const parameters: Record<string, ParameterPosterior> = {};
  names.forEach((name, j) => {
    const s = Math.sqrt(covariance[j * n + j]);
    const ends = [constrain(theta[j] - Z95 * s, bounds[j]), constrain(theta[j] + Z95 * s, bounds[j])].sort(
      (a, b) => a - b,
    );
    parameters[name] = {
      estimate: constrain(theta[j], bounds[j]),
      ...moments(theta[j], s, bounds[j]),
      interval: [ends[0], ends[1]],
    };
  });
  const rows = (a: Float64Array) => Array.from({ length: n }, (_, r) => Array.from(a.subarray(r * n, (r + 1) * n)));
  return {
    method: "laplace",
    parameters,
    correlation: sampleCorrelation(posteriorSamples(theta, covariance, bounds, how.seed, samples), samples, n),
    transformed: { mean: Array.from(theta), covariance: rows(covariance) },
    ensembleSize: how.ensembleSize,
    draws: how.draws,
    sigma: how.sigma,
    samples,
  };
}

/** The q-quantile of sorted values (linear interpolation between order statistics). */
function quantile(sorted: Float64Array, q: number): number {
  const h = (sorted.length - 1) * q,
    lo = Math.floor(h);
  return lo + 1 < sorted.length ? sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]) : sorted[lo];
}

/**
 * Samples of θ (count × n, the sampler's particles) in the parameters' units: each parameter's
 * sample mean, std (1/count) and central 95% interval (the 2.5% and 97.5% sample quantiles); the
 * estimate is u(θ̄), the run's `parameters`. `units`: the samples in the parameters' units (samples.npy).
 */
export function summarizeSamples(
  samples: Float64Array,
  count: number,
  bounds: readonly Bounds[],
  names: readonly string[],
): { summary: SampleSummary; units: Float64Array } {
  const n = names.length;
  const u = samples.map((t, i) => constrain(t, bounds[i % n]));
  const parameters: Record<string, ParameterPosterior> = {};
  names.forEach((name, j) => {
    const col = Float64Array.from({ length: count }, (_, c) => u[c * n + j]).sort();
    let mean = 0,
      meanTheta = 0;
    for (let c = 0; c < count; c++) {
      mean += col[c] / count;
      meanTheta += samples[c * n + j] / count;
    }
    let v = 0;
    for (const x of col) v += (x - mean) ** 2 / count;
    parameters[name] = {
      estimate: constrain(meanTheta, bounds[j]),
      mean,
      std: Math.sqrt(v),
      interval: [quantile(col, 0.025), quantile(col, 0.975)],
    };
  });
  const summary: SampleSummary = {
    method: "eks",
    parameters,
    correlation: sampleCorrelation(u, count, n),
    ensembleSize: count,
  };
  return { summary, units: u };
}
