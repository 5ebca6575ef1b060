// The ensemble kernel contract: everything one modified-EnKF iteration needs from forward passes.
// A kernel evaluates θ and θ + ω_j (j = 1..K) on the problem's current data and returns the
// sufficient statistics; it remembers Ω of its last call so the update can form d = Ωs.

import type { EnsembleDraw } from "../math/perturbation.ts";
import type { Predictor } from "../problems/types.ts";

export interface EnsembleStatistics {
  /** Φ(θ) = L(F(θ)) + ½α‖θ‖² */
  phi: number;
  /** QᵀWQ + αΩᵀΩ, K×K row-major */
  gram: Float64Array;
  /** Qᵀg + αΩᵀθ */
  rhs: Float64Array;
  /** accuracy of θ on the iteration's batch, for classification networks */
  accuracy?: number;
  /** forward evaluations made (K + 1) */
  evaluations: number;
}

/** Cumulative seconds per phase of a kernel's work, for benchmarks and reports. */
export interface KernelTimings {
  /** generating Ω (and, in the onnx kernel, packing the perturbed members with it) */
  rng: number;
  /** forming θ + ω_j and packing member parameters, where done separately */
  pack: number;
  /** the forward passes */
  forward: number;
  /** Q, QᵀWQ and Qᵀg */
  gram: number;
  /** d = Ωs */
  update: number;
}

export function emptyTimings(): KernelTimings {
  return { rng: 0, pack: 0, forward: 0, gram: 0, update: 0 };
}

export interface EnsembleKernel {
  readonly name: string;
  /** where the time went, summed over calls */
  readonly timings: KernelTimings;
  /** seconds its construction took (ONNX sessions, RNG workers loading), before any iteration */
  readonly startupSeconds?: number;
  /** K, perturbation members besides θ */
  readonly k: number;
  statistics(theta: Float64Array, draw: EnsembleDraw): Promise<EnsembleStatistics>;
  /** out ← Ω s for the ensemble of the last statistics() call */
  direction(s: Float64Array, out: Float64Array): void;
  /** Φ(θ) on the current data */
  objective(theta: Float64Array): Promise<number>;
  /** reads the problem's current batch at every call (nothing sized by it), so one kernel serves
   *  successive batches of the same model and K (the workflow's warm workers keep it) */
  readonly rebindable?: boolean;
  /** the model's outputs at θ for any rows (fast kernels; full-split evaluation uses it) */
  predict?: Predictor;
  dispose(): Promise<void>;
}
