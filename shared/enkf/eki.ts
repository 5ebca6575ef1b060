// Ensemble Kalman inversion (Kovachki & Stuart 2019), the comparison baseline, as a pure ask/tell
// process shaped like EnsembleKalmanProcesses.jl's update_ensemble!(ekp, g): the process asks for
// the forward at its J particles, and the update takes their outputs. With deviations A (θ, n×J)
// and B (F, M×J) from the ensemble means,
//   θ_j ← θ_j + C^{θF}(C^{FF} + Γ/h)⁻¹(y − G_j),  C^{θF} = ABᵀ/J,  C^{FF} = BBᵀ/J,  Γ = W⁻¹,
// which by the Woodbury identity is θ_j ← θ_j − h·A(J·I + h·BᵀWB)⁻¹Bᵀg_j with g_j = W(G_j − y): a
// J×J solve. Every particle stays in θ̄₀ + span{θ_j⁰ − θ̄₀}. Requires a least-squares loss (W does
// not depend on F). An iteration is two asks: the J particles on its batch, then Φ at the new mean
// (the row's objective). The estimate θ is the ensemble mean.

import { choleskyInPlace, choleskySolve } from "../math/linalg.ts";
import { accumulateProjection } from "../math/gram.ts";
import { checkWorkspace } from "../math/memory.ts";
import { fillGaussian, Stream } from "../math/rng.ts";
import type { OutputLoss } from "../losses/types.ts";
import type { EnkfSpec, StopSpec } from "../spec/job.ts";
import { startProgress, withRow, type Process, type ProcessState } from "./process.ts";

/** The forward at `count` points (count × n, member-major), on iteration `iteration`'s batch. */
export interface PointsAsk {
  iteration: number;
  points: Float64Array;
  count: number;
  /** the particles (the update), or their mean (Φ) */
  purpose: "particles" | "mean";
}

/** F at the asked points, count × M, in their order. */
export interface PointsAnswer {
  outputs: Float64Array;
}

export interface EkiState extends ProcessState {
  /** J × n, particle-major */
  particles: Float64Array;
  /** the iteration whose particles are asked next (or whose mean, in phase "mean") */
  iteration: number;
  phase: "particles" | "mean";
}

export interface EkiProblem {
  /** parameters n and outputs M per point */
  dimension: number;
  outputSize: number;
  /** the loss on iteration k's data (one loss where there are no batches) */
  lossAt(k: number): OutputLoss;
}

/**
 * EKI with J = spec.ensembleSize particles drawn N(θ₀, σ²I) from the job's seed.
 *
 * @example
 * ```ts
 * const process = eki(spec, stop, { dimension: n, outputSize: m, lossAt: () => problem.loss });
 * let state = process.init(theta0);
 * const ask = process.ask(state)!; // { purpose: "mean", points: θ̄₀, count: 1 }
 * ({ state } = process.tell(state, { outputs: forward(ask.points) }, 0));
 * ```
 */
export function eki(spec: EnkfSpec, stop: StopSpec, problem: EkiProblem): Process<EkiState, PointsAsk, PointsAnswer> {
  const n = problem.dimension,
    m = problem.outputSize,
    J = spec.ensembleSize,
    h = spec.stepSize;
  if (problem.lossAt(0).name !== "least-squares")
    throw new Error(`method "enkf" needs a least-squares loss; this problem uses ${problem.lossAt(0).name}`);
  checkWorkspace(
    "the EKI ensemble (particles, outputs and deviations, 2J×(n+M))",
    2 * J * (n + m) + 2 * J * J,
    "reduce optimizer.ensembleSize or the problem size",
  );

  const meanOf = (particles: Float64Array) => {
    const mean = new Float64Array(n);
    for (let j = 0; j < J; j++) for (let i = 0; i < n; i++) mean[i] += particles[j * n + i];
    for (let i = 0; i < n; i++) mean[i] /= J;
    return mean;
  };
  const spread = (particles: Float64Array, mean: Float64Array) => {
    let s = 0;
    for (let j = 0; j < J; j++)
      for (let i = 0; i < n; i++) {
        const d = particles[j * n + i] - mean[i];
        s += d * d;
      }
    return Math.sqrt(s / (J * n));
  };

  /** The Woodbury update of every particle from their outputs G (J × M) under `loss`. */
  function update(particles: Float64Array, mean: Float64Array, outputs: Float64Array, loss: OutputLoss): Float64Array {
    const meanF = new Float64Array(m),
      devTheta = new Float64Array(J * n),
      devF = new Float64Array(J * m);
    for (let j = 0; j < J; j++) for (let r = 0; r < m; r++) meanF[r] += outputs[j * m + r];
    for (let r = 0; r < m; r++) meanF[r] /= J;
    for (let j = 0; j < J; j++) {
      for (let i = 0; i < n; i++) devTheta[j * n + i] = particles[j * n + i] - mean[i];
      for (let r = 0; r < m; r++) devF[j * m + r] = outputs[j * m + r] - meanF[r];
    }
    // BᵀWB (W is constant for least squares, so evaluating it at the mean is exact)
    const gram = new Float64Array(J * J),
      c = new Float64Array(J * J);
    loss.gaussNewton(meanF, devF, J, gram, new Float64Array(J));
    for (let a = 0; a < J; a++) for (let b = 0; b < J; b++) c[a * J + b] = h * gram[a * J + b] + (a === b ? J : 0);
    if (!choleskyInPlace(c, J))
      throw new Error("the EKI system J·I + h·BᵀWB is not positive definite (non-finite outputs?)");
    const next = Float64Array.from(particles),
      gJ = new Float64Array(m),
      x = new Float64Array(J);
    for (let j = 0; j < J; j++) {
      loss.gradient(outputs.subarray(j * m, (j + 1) * m), gJ);
      x.fill(0);
      accumulateProjection(devF, J, m, gJ, x);
      choleskySolve(c, J, x, x);
      const row = next.subarray(j * n, (j + 1) * n);
      for (let l = 0; l < J; l++) {
        const coef = -h * x[l],
          o = l * n;
        for (let i = 0; i < n; i++) row[i] += coef * devTheta[o + i];
      }
    }
    return next;
  }

  return {
    method: "enkf",
    init(theta0) {
      const particles = new Float64Array(J * n);
      for (let j = 0; j < J; j++) {
        const row = particles.subarray(j * n, (j + 1) * n);
        fillGaussian(
          row,
          { seed: spec.seed, stream: Stream.ensembleInit, iteration: 0, member: j },
          0,
          n,
          0,
          spec.sigma,
        );
        for (let i = 0; i < n; i++) row[i] += theta0[i];
      }
      return {
        theta: meanOf(particles),
        particles,
        progress: startProgress(),
        evaluations: 0,
        iteration: 0,
        phase: "mean",
      };
    },
    ask(state) {
      if (state.progress.done) return null;
      return state.phase === "mean"
        ? { iteration: state.iteration, points: state.theta, count: 1, purpose: "mean" }
        : { iteration: state.iteration, points: state.particles, count: J, purpose: "particles" };
    },
    tell(state, answer, elapsed) {
      const expected = (state.phase === "mean" ? 1 : J) * m;
      if (answer.outputs.length !== expected)
        throw new Error(
          `the answer for iteration ${state.iteration} has ${answer.outputs.length} outputs; its ` +
            `${state.phase} need ${expected}`,
        );
      if (state.phase === "particles") {
        const particles = update(state.particles, state.theta, answer.outputs, problem.lossAt(state.iteration));
        return {
          state: { ...state, particles, theta: meanOf(particles), evaluations: state.evaluations + J, phase: "mean" },
          records: [],
        };
      }
      const phi = problem.lossAt(state.iteration).value(answer.outputs);
      const evaluated = { ...state, evaluations: state.evaluations + 1, phase: "particles" as const };
      if (state.progress.history.length === 0 && state.evaluations === 0) {
        // the start: Φ at θ̄₀, iteration 0's particles next
        return { state: { ...evaluated, progress: startProgress(phi) }, records: [] };
      }
      const row = {
        iteration: state.iteration + 1,
        objective: phi,
        sigma: spread(state.particles, state.theta),
        gamma: 0,
        step: h,
        accepted: Number.isFinite(phi),
        backtracks: 0,
        evaluations: J + 1,
        solver: "cholesky",
        seconds: elapsed,
      };
      return { state: withRow({ ...evaluated, iteration: state.iteration + 1 }, stop, row), records: [row] };
    },
  };
}
