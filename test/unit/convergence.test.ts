// The acceptance experiments: the modified EnKF converges linearly where the standard EnKF
// cannot leave its initial span, and large σ escapes local minima that trap gradient descent.
import { beforeAll, describe, expect, it } from "vitest";
import { optimizeAll } from "../../shared/enkf/optimize.ts";
import { eki } from "../../shared/enkf/eki.ts";
import { pointAnswers } from "../../shared/enkf/processes.ts";
import { fitLine } from "../../shared/math/stats.ts";
import { buildProblem } from "../../shared/problems/build.ts";
import { objectiveGradient, gradientWorkspace } from "../../shared/problems/objective.ts";
import { JobFields, JobSpec, problemRegularization, Sigma, type JobSpecInput } from "../../shared/spec/job.ts";
import type { z } from "zod";

type SigmaInput = z.input<typeof Sigma>;
import type { RunResult } from "../../shared/enkf/types.ts";
import { fillGaussian, Stream } from "../../shared/math/rng.ts";

function run(input: JobSpecInput): Promise<RunResult> {
  const job = JobSpec.parse(input);
  return optimizeAll({
    problem: buildProblem(job.problem),
    optimizer: job.optimizer,
    stop: job.stop,
    regularization: problemRegularization(job.problem),
  });
}

const quad = { type: "quadratic", dimension: 100, condition: 100, seed: 1 } as const;

describe("quadratic, n = 100, condition 100, K = 25 < n", () => {
  let menkf: RunResult;
  beforeAll(async () => {
    menkf = await run({
      name: "q",
      problem: quad,
      optimizer: { method: "modified-enkf", ensembleSize: 25, sigma: 0.01, gamma: 1e-10, seed: 0 },
      stop: { maxIterations: 600 },
    });
  });

  it("the modified EnKF reaches relative distance ≤ 1e-8 within 600 iterations", async () => {
    const first = menkf.history.findIndex((r) => r.distance! <= 1e-8);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(first + 1).toBeLessThanOrEqual(600);
    expect(menkf.metrics.relativeDistance).toBeLessThanOrEqual(1e-8);
  });

  it("its log-distance decreases linearly", async () => {
    // fit log‖θ−θ*‖ against the iteration over the part above rounding level
    const rows = menkf.history.filter((r) => r.distance! > 1e-12);
    expect(rows.length).toBeGreaterThan(50);
    const fit = fitLine(
      rows.map((r) => r.iteration),
      rows.map((r) => Math.log(r.distance!)),
    );
    const rate = Math.exp(fit.slope);
    expect(rate).toBeLessThan(0.97);
    expect(fit.r2).toBeGreaterThan(0.99);
    // and the same linear rate holds in each half (no slowdown, no early plateau)
    const half = Math.floor(rows.length / 2);
    const early = Math.exp(
      fitLine(
        rows.slice(0, half).map((r) => r.iteration),
        rows.slice(0, half).map((r) => Math.log(r.distance!)),
      ).slope,
    );
    const late = Math.exp(
      fitLine(
        rows.slice(half).map((r) => r.iteration),
        rows.slice(half).map((r) => Math.log(r.distance!)),
      ).slope,
    );
    expect(Math.abs(Math.log(early) - Math.log(late))).toBeLessThan(0.5 * Math.abs(Math.log(rate)));
  });

  it("the standard EnKF with the same K and budget stays above 1e-2: it cannot leave its initial span", async () => {
    const std = await run({
      name: "e",
      problem: quad,
      optimizer: { method: "enkf", ensembleSize: 25, sigma: 1, seed: 0 },
      stop: { maxIterations: 600 },
    });
    expect(std.iterations).toBe(600);
    expect(std.metrics.relativeDistance).toBeGreaterThan(1e-2);
    expect(std.objective).toBeLessThan(std.history[0].objective); // it does make progress, inside its subspace
  });

  it("every EKI particle stays in the affine span of the initial ensemble", async () => {
    const job = JobSpec.parse({
      name: "e",
      problem: { ...quad, dimension: 30 },
      optimizer: { method: "enkf", ensembleSize: 6, sigma: 1, seed: 2 },
    });
    const problem = buildProblem(job.problem);
    if (job.optimizer.method !== "enkf") throw new Error("unreachable");
    const process = eki(
      job.optimizer,
      { ...job.stop, tolerance: 0, maxIterations: 50 },
      { dimension: problem.dimension, outputSize: problem.outputSize, lossAt: () => problem.loss },
    );
    const answer = pointAnswers(problem);
    let state = process.init(problem.initial());
    const mean0 = Float64Array.from(state.theta);
    // 50 iterations: two asks each (the particles, then Φ at their mean), after the start's one
    for (let a = 0; a < 101; a++) ({ state } = process.tell(state, await answer(process.ask(state)!), 0));
    expect(state.progress.history.length).toBe(50);
    const opt = state;
    // θ̄_k − θ̄_0 must be a combination of the J initial deviations (particles are θ₀ + σ·z_j,
    // z_j from the ensembleInit stream): project onto them and check the residual
    const devs: Float64Array[] = [];
    for (let j = 0; j < 6; j++) {
      const z = new Float64Array(30);
      fillGaussian(z, { seed: 2, stream: Stream.ensembleInit, iteration: 0, member: j }, 0, 30, 0, 1);
      devs.push(z);
    }
    const zMean = new Float64Array(30);
    for (const d of devs) for (let i = 0; i < 30; i++) zMean[i] += d[i] / 6;
    const basis = devs.map((d) => d.map((v, i) => v - zMean[i]));
    const moved = Float64Array.from(opt.theta, (v, i) => v - mean0[i]);
    expect(Math.hypot(...moved)).toBeGreaterThan(1e-3);
    // Gram–Schmidt residual of `moved` against the basis
    const q: Float64Array[] = [];
    for (const b of basis) {
      const v = Float64Array.from(b);
      for (const u of q) {
        let s = 0;
        for (let i = 0; i < 30; i++) s += u[i] * v[i];
        for (let i = 0; i < 30; i++) v[i] -= s * u[i];
      }
      const nv = Math.hypot(...v);
      if (nv > 1e-10) q.push(v.map((x) => x / nv));
    }
    const r = Float64Array.from(moved);
    for (const u of q) {
      let s = 0;
      for (let i = 0; i < 30; i++) s += u[i] * r[i];
      for (let i = 0; i < 30; i++) r[i] -= s * u[i];
    }
    expect(Math.hypot(...r) / Math.hypot(...moved)).toBeLessThan(1e-8);
  });

  it(
    "with the geometric spectrum it converges at the rate the PyTorch reference measured " + "(≈0.977/iteration)",
    async () => {
      const r = await run({
        name: "g",
        problem: { ...quad, spectrum: "geometric" },
        optimizer: { method: "modified-enkf", ensembleSize: 25, sigma: 0.01, lineSearch: false },
        stop: { maxIterations: 400 },
      });
      expect(r.metrics.distanceRate).toBeGreaterThan(0.96);
      expect(r.metrics.distanceRate).toBeLessThan(0.985);
      expect(r.metrics.distanceRateR2).toBeGreaterThan(0.99);
    },
  );
});

describe("oscillatory, 10 dimensions, from c + 3.2", () => {
  const problemSpec = { type: "oscillatory", dimension: 10, amplitude: 10, frequency: 1, start: 3.2 } as const;

  it("gradient descent with the exact gradient stops in a local minimum far above the global one", async () => {
    const r = await run({
      name: "gd",
      problem: problemSpec,
      optimizer: { method: "gradient-descent" },
      stop: { maxIterations: 2000 },
    });
    const problem = buildProblem(JobFields.shape.problem.parse(problemSpec));
    const g = new Float64Array(10);
    objectiveGradient(problem, r.theta, g, gradientWorkspace(problem));
    expect(Math.hypot(...g)).toBeLessThan(1e-3); // a stationary point …
    expect(r.objective).toBeGreaterThan(1); // … far above Φ* = 0
  });

  // K = 15 lies between n = 10 and M = 2n = 20. With small σ, Q ≈ JΩ has rank ≤ n and the step is the
  // local Gauss–Newton step; with large σ the secant differences see the bowl through the oscillation,
  // and the shrinking σ then resolves the basin it lands in.
  const seeds = Array.from({ length: 10 }, (_, s) => s);
  const attempt = (sigma: SigmaInput, seed: number) =>
    run({
      name: "o",
      problem: { ...problemSpec, seed },
      optimizer: { method: "modified-enkf", ensembleSize: 15, sigma, seed },
      stop: { maxIterations: 300 },
    });

  it(
    "the modified EnKF with a large initial σ and a shrinking schedule reaches the global " +
      "basin in ≥ 9 of 10 seeds",
    async () => {
      const results = await Promise.all(
        seeds.map((s) => attempt({ schedule: "geometric", initial: 2, decay: 0.95, minimum: 1e-8 }, s)),
      );
      const hits = results.filter((r) => r.objective - 0 <= 1e-3 && r.metrics.distance < 0.05).length;
      expect(hits).toBeGreaterThanOrEqual(9);
    },
  );

  it("with a small σ the same method stays local, so the large σ is what escapes", async () => {
    const results = await Promise.all(seeds.map((s) => attempt(1e-3, s)));
    const hits = results.filter((r) => r.objective <= 1e-3).length;
    expect(hits).toBeLessThanOrEqual(2);
  });
});

describe("rosenbrock", () => {
  it.each([2, 10])("the modified EnKF solves the %i-dimensional chained Rosenbrock", async (n) => {
    const r = await run({
      name: "r",
      problem: { type: "rosenbrock", dimension: n },
      optimizer: { method: "modified-enkf", ensembleSize: n + 2, sigma: 1e-4 },
      stop: { maxIterations: 2000 },
    });
    expect(r.metrics.relativeDistance).toBeLessThan(1e-6);
  });
});

describe("regularization ½α‖θ‖²", () => {
  it("moves the minimiser to the solution of (JᵀJ + αI)θ = Jᵀy, found by the modified EnKF", async () => {
    const alpha = 0.5;
    const r = await run({
      name: "reg",
      problem: { type: "quadratic", dimension: 20, condition: 10, seed: 3, regularization: alpha },
      optimizer: { method: "modified-enkf", ensembleSize: 8 },
      stop: { maxIterations: 400 },
    });
    // the exact gradient (with α) vanishes at the result
    const job = JobSpec.parse({
      name: "x",
      problem: { type: "quadratic", dimension: 20, condition: 10, seed: 3, regularization: alpha },
      optimizer: { method: "gradient-descent" },
    });
    const problem = buildProblem(job.problem);
    const g = new Float64Array(20),
      g0 = new Float64Array(20);
    objectiveGradient(problem, r.theta, g, gradientWorkspace(problem), alpha);
    objectiveGradient(problem, problem.initial(), g0, gradientWorkspace(problem), alpha);
    // down to the rounding floor of Φ (Φ* > 0 here): at least eight orders of magnitude
    expect(Math.hypot(...g) / Math.hypot(...g0)).toBeLessThan(1e-8);
    // and the minimiser is not 0 or θ* of the unregularized problem
    expect(Math.hypot(...r.theta)).toBeGreaterThan(0.1);
  });
});
