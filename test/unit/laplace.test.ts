// The Laplace posterior against the linear-Gaussian closed form: with a linear forward G(θ) = Aθ + b,
// noise Γ and a Gaussian prior N(μ, Σ₀) on unbounded parameters, the posterior is Gaussian with
// covariance C = (AᵀΓ⁻¹A + Σ₀⁻¹)⁻¹ and mean C(AᵀΓ⁻¹(y − b) + Σ₀⁻¹μ). The Hessian is recovered from
// the ensemble statistics the reference kernel forms (forward evaluations only) at the exact mean.
import { describe, expect, it } from "vitest";
import {
  drawsFor,
  hessianFromDraws,
  hessianFromEnsemble,
  laplaceCovariance,
  LaplaceError,
  type DrawStatistics,
} from "../../shared/enkf/laplace.ts";
import { referenceKernel } from "../../shared/kernels/reference.ts";
import { perturbation } from "../../shared/math/perturbation.ts";
import { inverseProblem } from "../../shared/problems/inverse.ts";
import { InverseProblem as InverseSpec } from "../../shared/spec/job.ts";
import { relDiff } from "../support/synthetic.ts";
import { closedForm, n, std, y, linearProblem } from "../support/linearGaussian.ts";

const spec = InverseSpec.parse(linearProblem());

describe("the Laplace posterior", () => {
  it.each([3, 8])("with K = %i members matches the linear-Gaussian closed form to 1e-6", async (k) => {
    const problem = inverseProblem(spec, { values: Float64Array.from(y), std: Float64Array.from(std) });
    const exact = closedForm();
    const theta = Float64Array.from(exact.mean);
    const draw = { sigma: 0.3, kind: "gaussian" as const, seed: 11, iteration: 0 };
    const stats = await referenceKernel(problem, k).statistics(theta, draw, problem);
    const members = new Float64Array(k * n);
    for (let j = 0; j < k; j++) perturbation(draw, j, members.subarray(j * n, (j + 1) * n));
    const { covariance } = laplaceCovariance(hessianFromEnsemble(members, k, n, stats.gram), n);
    expect(relDiff(covariance, Float64Array.from(exact.cov.flat()))).toBeLessThan(1e-6);
    // the gradient vanishes at the closed-form mean: it is the MAP point the optimizer seeks
    expect(Math.max(...Array.from(stats.rhs, Math.abs))).toBeLessThan(1e-9);
  });

  it.each([1, 2])(
    "with K = %i < n members, several draws' equations fit the same covariance by least squares",
    async (k) => {
      const problem = inverseProblem(spec, { values: Float64Array.from(y), std: Float64Array.from(std) });
      const exact = closedForm();
      const theta = Float64Array.from(exact.mean);
      const draws: DrawStatistics[] = [];
      for (let d = 0; d < drawsFor(k, n); d++) {
        const draw = { sigma: 0.3, kind: "gaussian" as const, seed: 11, iteration: d };
        const stats = await referenceKernel(problem, k).statistics(theta, draw, problem);
        const members = new Float64Array(k * n);
        for (let j = 0; j < k; j++) perturbation(draw, j, members.subarray(j * n, (j + 1) * n));
        draws.push({ members, count: k, gram: stats.gram });
      }
      // K(K+1)/2 equations per draw for n(n+1)/2 = 6 unknowns, and one draw more
      expect(draws.length).toBe(k === 1 ? 7 : 3);
      const { covariance } = laplaceCovariance(hessianFromDraws(draws, n), n);
      expect(relDiff(covariance, Float64Array.from(exact.cov.flat()))).toBeLessThan(1e-6);
      // too few equations is a named refusal, not a wrong answer
      expect(() => hessianFromDraws(draws.slice(0, 1), n)).toThrow(/equations for the 6 unknowns/);
    },
  );

  it("refuses fewer members than parameters, and an undetermined direction without a prior", () => {
    expect(() => hessianFromEnsemble(new Float64Array(2 * 3), 2, 3, new Float64Array(4))).toThrow(
      /at least as many members as parameters \(K = 2, n = 3\)/,
    );
    expect(() => laplaceCovariance(Float64Array.from([1, 0, 0, 0]), 2)).toThrow(LaplaceError);
  });
});
