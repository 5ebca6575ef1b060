// The Laplace posterior as a job reports it (issue 30): the linear-Gaussian problem, whose posterior
// is known in closed form, run to convergence by the modified EnKF in process; result.posterior's
// transformed mean and covariance match the closed form to 1e-6 relative with K ≥ n (one draw) and
// K < n (several), and a bounded parameter's interval is the closed form's mapped through its
// transform. A direction nothing determines (no prior, fewer observations than parameters) leaves
// the point estimate standing and says why there is no posterior.
import { describe, expect, it } from "vitest";
import { optimizeAll } from "../../shared/enkf/optimize.ts";
import { Z95, type PosteriorSummary } from "../../shared/enkf/posteriorSummary.ts";
import { constrain } from "../../shared/math/constrain.ts";
import { fileInputs, loadInverseProblem } from "../../shared/setup/inverseInputs.ts";
import { JobSpec } from "../../shared/spec/job.ts";
import { closedForm, linearProblem, n } from "../support/linearGaussian.ts";
import { relDiff } from "../support/synthetic.ts";

async function run(problem: object, ensembleSize: number, iterations: number) {
  const job = JobSpec.parse({
    name: "linear-gaussian",
    problem,
    optimizer: { ensembleSize, sigma: 0.1, gamma: 1e-12, seed: 3 },
    stop: { maxIterations: iterations },
  });
  if (job.problem.type !== "inverse") throw new Error("test job");
  const loaded = await loadInverseProblem(job.problem, fileInputs("/"));
  return optimizeAll({ problem: loaded, optimizer: job.optimizer, stop: job.stop });
}

const summary = (p: unknown) => {
  if (!p || typeof p !== "object" || "unavailable" in p) throw new Error(`no posterior: ${JSON.stringify(p)}`);
  return p as PosteriorSummary;
};

describe("the Laplace posterior of a job", () => {
  it.each([
    [8, 1, 10],
    [2, 3, 80],
  ])("with K = %i (%i draws) matches the linear-Gaussian closed form to 1e-6", async (k, draws, iterations) => {
    const exact = closedForm();
    const result = await run(linearProblem(), k, iterations);
    const post = summary(result.posterior);
    expect(post.draws).toBe(draws);
    expect(relDiff(post.transformed.mean, exact.mean)).toBeLessThan(1e-6);
    expect(relDiff(post.transformed.covariance.flat(), exact.cov.flat())).toBeLessThan(1e-6);
    // unbounded parameters: the marginals are the Gaussian's own
    exact.mean.forEach((mu, j) => {
      const s = Math.sqrt(exact.cov[j][j]);
      const q = post.parameters[`u${j}`];
      expect(relDiff([q.mean, q.std, ...q.interval], [mu, s, mu - Z95 * s, mu + Z95 * s])).toBeLessThan(1e-6);
    });
    // the posterior's rounds are counted, K + 1 forward evaluations per draw, and change nothing else
    const without = await run({ ...linearProblem(), posterior: "none" }, k, iterations);
    expect(without.posterior).toBeUndefined();
    expect(Array.from(result.theta)).toEqual(Array.from(without.theta));
    expect(result.evaluations - without.evaluations).toBe(draws * (k + 1));
  });

  it("maps a bounded parameter's interval through its transform, and samples its correlations", async () => {
    // u1 ∈ (−1, 1) and u2 > −3: the posterior in θ is no longer the closed form's, but its interval is
    // that Gaussian's in θ, mapped
    const result = await run(linearProblem([undefined, [-1, 1], [-3, null]]), 8, 40);
    const post = summary(result.posterior);
    const bounds = [
      { lower: -1, upper: 1 },
      { lower: -3, upper: null },
    ];
    [1, 2].forEach((j, i) => {
      const m = post.transformed.mean[j],
        s = Math.sqrt(post.transformed.covariance[j][j]);
      const q = post.parameters[`u${j}`];
      expect(q.interval[0]).toBeCloseTo(constrain(m - Z95 * s, bounds[i]), 12);
      expect(q.interval[1]).toBeCloseTo(constrain(m + Z95 * s, bounds[i]), 12);
      expect(q.estimate).toBe(result.parameters![`u${j}`]);
      expect(q.interval[0] < q.estimate && q.estimate < q.interval[1]).toBe(true);
    });
    // a log-normal's mean and std in closed form (u2 = −3 + e^θ)
    const m2 = post.transformed.mean[2],
      v2 = post.transformed.covariance[2][2];
    expect(post.parameters.u2.mean).toBeCloseTo(-3 + Math.exp(m2 + v2 / 2), 10);
    expect(post.parameters.u2.std).toBeCloseTo(Math.sqrt((Math.exp(v2) - 1) * Math.exp(2 * m2 + v2)), 10);
    expect(post.correlation).toHaveLength(n);
    expect(post.correlation.flat().every((c) => Math.abs(c) <= 1 + 1e-12)).toBe(true);
  });

  it("says why there is no posterior when the data and prior leave a direction open", async () => {
    const problem = { ...linearProblem(), prior: false, forward: { type: "linear", matrix: [[1, 1, 0]] } };
    const result = await run({ ...problem, observations: { values: [1], noise: { std: 0.1 } } }, 4, 5);
    expect(result.status).not.toBe("failed");
    expect(result.posterior).toEqual({ method: "laplace", unavailable: expect.stringMatching(/not determined/) });
  });

  it("is refused for methods without the modified EnKF's statistics, and skipped with none", () => {
    const job = (optimizer: object, posterior?: string) =>
      JobSpec.safeParse({ name: "x", problem: { ...linearProblem(), posterior }, optimizer });
    const eki = job({ method: "enkf", ensembleSize: 8 }, "laplace");
    expect(eki.success).toBe(false);
    expect(eki.error?.issues[0].path).toEqual(["problem", "posterior"]);
    expect(job({ method: "enkf", ensembleSize: 8 }).success).toBe(true);
    expect(job({ ensembleSize: 8 }, "none").success).toBe(true);
  });
});
