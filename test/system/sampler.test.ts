// The ensemble Kalman sampler (method "eks", issue 30) on the linear-Gaussian problem, whose
// posterior N(m, C) is known in closed form: the J particles at the end are the sample. For J
// independent draws of N(m, C) the sample mean's error in parameter a has standard deviation
// √(C_aa/J), and the sample covariance's entry (a, b) about √((C_aa C_bb + C_ab²)/J); each is
// checked within 4 of those standard errors, so the tolerance shrinks as J grows. (The Euler step's
// own bias, about Δt/2 ≈ 3% of the variances here, is well inside the 28% that 4 standard errors
// allow at J = 400.) The job's files: samples.npy holds the particles in the parameters' units.
import { describe, expect, it } from "vitest";
import { optimizeAll } from "../../shared/enkf/optimize.ts";
import { fileInputs, loadInverseProblem } from "../../shared/setup/inverseInputs.ts";
import { JobSpec } from "../../shared/spec/job.ts";
import { closedForm, linearProblem, n } from "../support/linearGaussian.ts";

const J = 400;

async function sample(problem: object, optimizer: object, steps: number) {
  const job = JobSpec.parse({ name: "sampled", problem, optimizer, stop: { maxIterations: steps } });
  if (job.problem.type !== "inverse") throw new Error("test job");
  const loaded = await loadInverseProblem(job.problem, fileInputs("/"));
  return optimizeAll({ problem: loaded, optimizer: job.optimizer, stop: job.stop });
}

describe("the ensemble Kalman sampler", () => {
  it(`with J = ${J} particles matches the closed-form posterior within Monte Carlo error`, async () => {
    const exact = closedForm();
    const result = await sample(linearProblem(), { method: "eks", ensembleSize: J, seed: 4 }, 300);
    expect(result.status).toBe("max_iterations");
    const s = result.samples!;
    expect([s.count, s.names]).toEqual([J, ["u0", "u1", "u2"]]);
    const mean = Array.from({ length: n }, (_, a) => {
      let t = 0;
      for (let c = 0; c < J; c++) t += s.data[c * n + a] / J;
      return t;
    });
    const cov = (a: number, b: number) => {
      let t = 0;
      for (let c = 0; c < J; c++) t += ((s.data[c * n + a] - mean[a]) * (s.data[c * n + b] - mean[b])) / J;
      return t;
    };
    const C = exact.cov;
    for (let a = 0; a < n; a++) {
      expect(Math.abs(mean[a] - exact.mean[a]), `mean ${a}`).toBeLessThan(4 * Math.sqrt(C[a][a] / J));
      for (let b = 0; b <= a; b++)
        expect(Math.abs(cov(a, b) - C[a][b]), `covariance ${a},${b}`).toBeLessThan(
          4 * Math.sqrt((C[a][a] * C[b][b] + C[a][b] ** 2) / J),
        );
    }
    // the summary is the same sample's: its mean and std per parameter, and a 95% interval around them
    const post = result.posterior!;
    if (post.method !== "eks") throw new Error(`expected the sampler's summary, got ${post.method}`);
    for (let a = 0; a < n; a++) {
      const q = post.parameters[`u${a}`];
      expect(q.mean).toBeCloseTo(mean[a], 12);
      expect(q.std).toBeCloseTo(Math.sqrt(cov(a, a)), 12);
      expect(q.interval[0] < q.mean && q.mean < q.interval[1]).toBe(true);
      // the interval of N(m, C_aa) holds 95%: its ends within 4 standard errors of the quantiles' own
      const sd = Math.sqrt(C[a][a]);
      expect(Math.abs(q.interval[1] - q.interval[0] - 2 * 1.96 * sd)).toBeLessThan((8 * (2.6 * sd)) / Math.sqrt(J));
    }
  });

  it("a sample that ignores the data fails the same tolerance (the test can tell)", async () => {
    // data so noisy they say nothing: the posterior is the prior, far from the linear-Gaussian one, so a
    // sampler that ignored the data could not pass the test above
    const exact = closedForm();
    const free = { ...linearProblem(), observations: { values: [0, 0, 0, 0, 0], noise: { std: 1e6 } } };
    const result = await sample(free, { method: "eks", ensembleSize: J, seed: 4 }, 300);
    const post = result.posterior!;
    if (post.method !== "eks") throw new Error(`expected the sampler's summary, got ${post.method}`);
    const q = post.parameters.u1;
    expect(Math.abs(q.mean - exact.mean[1]) > 4 * Math.sqrt(exact.cov[1][1] / J)).toBe(true);
    // and it does sample the prior: u1's std is its prior's 0.5, within Monte Carlo error
    expect(Math.abs(q.std - 0.5)).toBeLessThan(4 * (0.5 / Math.sqrt(2 * J)));
  });

  it("refuses what it cannot sample: no prior, too few particles, a problem without one", () => {
    const parse = (problem: object, optimizer: object) =>
      JobSpec.safeParse({ name: "x", problem, optimizer }).error?.issues.map((i) => i.path.join("."));
    expect(parse({ ...linearProblem(), prior: false }, { method: "eks", ensembleSize: 50 })).toEqual(["problem.prior"]);
    expect(parse(linearProblem(), { method: "eks", ensembleSize: 4 })).toEqual(["optimizer.ensembleSize"]);
    expect(parse({ type: "quadratic", dimension: 3 }, { method: "eks", ensembleSize: 50 })).toEqual([
      "optimizer.method",
    ]);
  });
});
