// Standard ensemble Kalman inversion (Kovachki & Stuart 2019), the comparison baseline.
// J particles θ_j, outputs G_j = F(θ_j); with deviations A (θ) and B (F) from the ensemble means,
//   θ_j ← θ_j + C^{θF}(C^{FF} + Γ/h)⁻¹(y − G_j),  C^{θF} = ABᵀ/J,  C^{FF} = BBᵀ/J,  Γ = W⁻¹.
// By the Woodbury identity this is θ_j ← θ_j − h·A(J·I + h·BᵀWB)⁻¹Bᵀg_j with g_j = W(G_j − y),
// a J×J solve. Every particle stays in θ̄₀ + span{θ_j⁰ − θ̄₀}: the ensemble cannot leave
// the span of its initial deviations. Requires a least-squares loss (W independent of F). The J
// particles are evaluated in one call where the problem's forward runs in batches (onnx, http).

import { choleskyInPlace, choleskySolve } from "../math/linalg.ts";
import { accumulateProjection } from "../math/gram.ts";
import { fillGaussian, Stream } from "../math/rng.ts";
import { onIteration, type Problem } from "../problems/types.ts";
import { forwardPoints } from "../problems/forwardPoints.ts";
import type { EnkfSpec } from "../spec/job.ts";
import { checkWorkspace } from "../math/memory.ts";
import type { Optimizer, StepRecord } from "./types.ts";

export async function eki(problem: Problem, spec: EnkfSpec, alpha = 0, theta0?: Float64Array): Promise<Optimizer> {
  if (problem.loss.name !== "least-squares") throw new Error(`method "enkf" needs a least-squares loss; this problem uses ${problem.loss.name}`);
  if (alpha > 0) throw new Error(`method "enkf" does not support problem.regularization; use "modified-enkf"`);
  const n = problem.dimension, m = problem.outputSize, J = spec.ensembleSize, h = spec.stepSize;
  checkWorkspace("the EKI ensemble (particles, outputs and deviations, 2J×(n+M))", 2 * J * (n + m) + 2 * J * J, "reduce optimizer.ensembleSize or the problem size");
  const start = theta0 ? Float64Array.from(theta0) : problem.initial();
  const particles = new Float64Array(J * n);
  for (let j = 0; j < J; j++) {
    const row = particles.subarray(j * n, (j + 1) * n);
    fillGaussian(row, { seed: spec.seed, stream: Stream.ensembleInit, iteration: 0, member: j }, 0, n, 0, spec.sigma);
    for (let i = 0; i < n; i++) row[i] += start[i];
  }
  const outputs = new Float64Array(J * m);
  const devTheta = new Float64Array(J * n);
  const devF = new Float64Array(J * m);
  const meanF = new Float64Array(m);
  const gram = new Float64Array(J * J);
  const rhsScratch = new Float64Array(J);
  const gJ = new Float64Array(m);
  const c = new Float64Array(J * J);
  const x = new Float64Array(J);
  const fMean = new Float64Array(m);
  const mean = new Float64Array(n);

  function updateMean(): void {
    mean.fill(0);
    for (let j = 0; j < J; j++) for (let i = 0; i < n; i++) mean[i] += particles[j * n + i];
    for (let i = 0; i < n; i++) mean[i] /= J;
  }
  function spread(): number {
    let s = 0;
    for (let j = 0; j < J; j++) for (let i = 0; i < n; i++) { const d = particles[j * n + i] - mean[i]; s += d * d; }
    return Math.sqrt(s / (J * n));
  }
  /** Φ at the ensemble mean (fMean receives F there) */
  const meanObjective = async () => {
    await forwardPoints(problem, mean, 1, fMean);
    return problem.loss.value(fMean);
  };
  updateMean();
  let phi = await meanObjective();
  let evaluations = 1;

  return {
    method: "enkf",
    theta: mean,
    get objective() { return phi; },
    get evaluations() { return evaluations; },
    async step(iteration: number): Promise<StepRecord> {
      await forwardPoints(onIteration(problem, iteration), particles, J, outputs);
      meanF.fill(0);
      for (let j = 0; j < J; j++) for (let r = 0; r < m; r++) meanF[r] += outputs[j * m + r];
      for (let r = 0; r < m; r++) meanF[r] /= J;
      for (let j = 0; j < J; j++) {
        for (let i = 0; i < n; i++) devTheta[j * n + i] = particles[j * n + i] - mean[i];
        for (let r = 0; r < m; r++) devF[j * m + r] = outputs[j * m + r] - meanF[r];
      }
      // BᵀWB (W is constant for least squares, so evaluating it at the mean is exact)
      gram.fill(0);
      rhsScratch.fill(0);
      problem.loss.gaussNewton(meanF, devF, J, gram, rhsScratch);
      c.fill(0);
      for (let a = 0; a < J; a++) for (let b = 0; b < J; b++) c[a * J + b] = h * gram[a * J + b] + (a === b ? J : 0);
      if (!choleskyInPlace(c, J)) throw new Error("the EKI system J·I + h·BᵀWB is not positive definite (non-finite outputs?)");
      for (let j = 0; j < J; j++) {
        problem.loss.gradient(outputs.subarray(j * m, (j + 1) * m), gJ);
        x.fill(0);
        accumulateProjection(devF, J, m, gJ, x);
        choleskySolve(c, J, x, x);
        const row = particles.subarray(j * n, (j + 1) * n);
        for (let l = 0; l < J; l++) {
          const coef = -h * x[l], o = l * n;
          for (let i = 0; i < n; i++) row[i] += coef * devTheta[o + i];
        }
      }
      updateMean();
      phi = await meanObjective();
      evaluations += J + 1;
      return { objective: phi, sigma: spread(), gamma: 0, step: h, accepted: Number.isFinite(phi), backtracks: 0, evaluations: J + 1, solver: "cholesky" };
    },
  };
}
