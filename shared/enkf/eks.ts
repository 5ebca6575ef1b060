// The ensemble Kalman sampler (Garbuno-Inigo, Hoffmann, Li & Stuart 2020) in its ALDI form
// (Garbuno-Inigo, Nüsken & Reich 2020), as a pure ask/tell process: its J particles are a sample of
// the posterior π(θ) ∝ exp(−Φ(θ)), Φ = ½‖F(θ) − y‖²_W with the prior among F's outputs (an inverse
// problem with its prior, ../problems/inverse.ts). It asks F at the particles (EKI's question,
// eki.ts, so every evaluator of EKI's asks answers it, member blocks included) and moves them by
// one Euler–Maruyama step of
//   du_j = −C^{θF} g_j dt + ((n + 1)/J)(u_j − ū) dt + √2 C^{1/2} dW_j,
// g_j = W(F_j − y), C^{θF} = (1/J) Σ_k (u_k − ū)(F_k − F̄)ᵀ ≈ C Jᵀ (so the first term is −C∇Φ(u_j)
// without a gradient), C^{1/2} dW_j = (1/√J) Σ_k (u_k − ū) ξ_kj with ξ ~ N(0, 1) from the
// counter-based RNG (the sampler's stream), and the finite-ensemble correction (n + 1)/J that
// makes the dynamics sample π exactly for a linear F. Written with D_kj = (1/J)(F_k − F̄)ᵀ g_j
// (J × J), the step is Δt = timeStep / ‖D‖_F: the drift's rate is at most ‖D‖, so the step stays
// stable from a prior ensemble far from the data to the posterior, where ‖D‖_F ≈ √n.
// The particles start as the prior's draws around θ₀; the estimate θ is their mean.

import { accumulateProjection } from "../math/gram.ts";
import { checkWorkspace } from "../math/memory.ts";
import { fillGaussian, Stream } from "../math/rng.ts";
import type { EksSpec, StopSpec } from "../spec/job.ts";
import type { EkiProblem, PointsAnswer, PointsAsk } from "./eki.ts";
import { startProgress, withRow, type Process, type ProcessState, type SampleEstimate } from "./process.ts";

export class SamplerError extends Error {
  override name = "SamplerError";
}

export interface EksState extends ProcessState {
  /** the particles in θ (J × n, particle-major): the sample */
  readonly posterior: SampleEstimate;
  /** the step whose particles are asked next */
  readonly iteration: number;
}

export interface EksProblem extends EkiProblem {
  /** the prior's std in θ, per parameter: the initial particles are θ₀ + std ⊙ z */
  priorStd: Float64Array;
}

/**
 * The sampler with J = spec.ensembleSize particles, for stop.maxIterations steps.
 *
 * @example
 * ```ts
 * const process = eks(spec, stop, { dimension: n, outputSize: m, lossAt: () => problem.loss, priorStd });
 * const result = await runLoop(process, pointAnswers(problem), ctx, theta0);
 * result.posterior; // the particles' marginals and correlations (with ctx.summarizePosterior)
 * ```
 */
export function eks(spec: EksSpec, stop: StopSpec, problem: EksProblem): Process<EksState, PointsAsk, PointsAnswer> {
  const n = problem.dimension,
    m = problem.outputSize,
    J = spec.ensembleSize;
  if (problem.lossAt(0).name !== "least-squares")
    throw new SamplerError(`method "eks" needs a least-squares loss; this problem uses ${problem.lossAt(0).name}`);
  checkWorkspace("the sampler's ensemble (J×(2n+2M) and J×J)", J * (2 * n + 2 * m) + 2 * J * J, "reduce ensembleSize");
  const meanOf = (u: Float64Array) => {
    const mean = new Float64Array(n);
    for (let j = 0; j < J; j++) for (let i = 0; i < n; i++) mean[i] += u[j * n + i] / J;
    return mean;
  };
  const sample = (samples: Float64Array): SampleEstimate => ({ samples, count: J });

  /** One step: the particles moved by the outputs F (J × M); Φ's ensemble mean and the step Δt. */
  function step(u: Float64Array, outputs: Float64Array, iteration: number) {
    const loss = problem.lossAt(iteration);
    const ubar = meanOf(u),
      fbar = new Float64Array(m);
    for (let j = 0; j < J; j++) for (let r = 0; r < m; r++) fbar[r] += outputs[j * m + r] / J;
    const du = new Float64Array(J * n),
      df = new Float64Array(J * m),
      g = new Float64Array(m),
      d = new Float64Array(J * J), // column j: D_·j
      x = new Float64Array(J);
    for (let j = 0; j < J; j++) {
      for (let i = 0; i < n; i++) du[j * n + i] = u[j * n + i] - ubar[i];
      for (let r = 0; r < m; r++) df[j * m + r] = outputs[j * m + r] - fbar[r];
    }
    let phi = 0,
      norm = 0;
    for (let j = 0; j < J; j++) {
      const fj = outputs.subarray(j * m, (j + 1) * m);
      const pj = loss.gradient(fj, g);
      if (!Number.isFinite(pj))
        throw new SamplerError(
          `particle ${j}'s forward evaluation is not finite at step ${iteration + 1}: the sampler needs every ` +
            `particle (check the forward model over the prior's range, or tighten the prior)`,
        );
      phi += pj / J;
      x.fill(0);
      accumulateProjection(df, J, m, g, x);
      for (let k = 0; k < J; k++) {
        d[j * J + k] = x[k] / J;
        norm += (x[k] / J) ** 2;
      }
    }
    const dt = spec.timeStep / (Math.sqrt(norm) + 1e-300);
    const next = Float64Array.from(u),
      xi = new Float64Array(J),
      correction = (dt * (n + 1)) / J,
      noise = Math.sqrt((2 * dt) / J);
    for (let j = 0; j < J; j++) {
      fillGaussian(xi, { seed: spec.seed, stream: Stream.sampler, iteration, member: j });
      const row = next.subarray(j * n, (j + 1) * n);
      for (let k = 0; k < J; k++) {
        const c = -dt * d[j * J + k] + noise * xi[k] + (k === j ? correction : 0);
        for (let i = 0; i < n; i++) row[i] += c * du[k * n + i];
      }
    }
    let spread = 0;
    for (const v of du) spread += v * v;
    return { next, phi, dt, spread: Math.sqrt(spread / (J * n)) };
  }

  return {
    method: "eks",
    init(theta0) {
      const u = new Float64Array(J * n);
      for (let j = 0; j < J; j++) {
        const row = u.subarray(j * n, (j + 1) * n);
        fillGaussian(row, { seed: spec.seed, stream: Stream.ensembleInit, iteration: 0, member: j });
        for (let i = 0; i < n; i++) row[i] = theta0[i] + problem.priorStd[i] * row[i];
      }
      return { theta: meanOf(u), posterior: sample(u), progress: startProgress(), evaluations: 0, iteration: 0 };
    },
    ask(state) {
      if (state.progress.done) return null;
      return { iteration: state.iteration, points: state.posterior.samples, count: J, purpose: "particles" };
    },
    tell(state, answer, elapsed) {
      if (answer.outputs.length !== J * m)
        throw new SamplerError(
          `the answer for step ${state.iteration + 1} has ${answer.outputs.length} outputs; its ${J} ` +
            `particles need ${J * m}`,
        );
      const { next, phi, dt, spread } = step(state.posterior.samples, answer.outputs, state.iteration);
      const row = {
        iteration: state.iteration + 1,
        objective: phi,
        sigma: spread,
        gamma: 0,
        step: dt,
        accepted: true,
        backtracks: 0,
        evaluations: J,
        solver: "",
        seconds: elapsed,
      };
      const moved = {
        ...state,
        theta: meanOf(next),
        posterior: sample(next),
        evaluations: state.evaluations + J,
        iteration: state.iteration + 1,
      };
      return { state: withRow(moved, stop, row), records: [row] };
    },
  };
}
