// The ensemble kernel contract: everything one modified-EnKF iteration needs from forward passes.
// A kernel evaluates θ and θ + ω_j (j = 1..K) on the data a call names and returns the
// sufficient statistics; it remembers Ω of its last call so the update can form d = Ωs.

import type { EnsembleDraw } from "../math/perturbation.ts";
import type { Predictor, Problem } from "../problems/types.ts";

export interface EnsembleStatistics {
  /** L(F(θ)), the loss without the ½α‖θ‖² term */
  phi: number;
  /** QᵀWQ, K×K row-major */
  gram: Float64Array;
  /** Qᵀg */
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

/**
 * How a kernel's forward holds the members θ + ω_j, which d = Ωs must follow to take the steps
 * its statistics describe (shared/distributed/direction.ts): in float64, or rounded to float32
 * with (factoredRank > 0) layer 0 kept as float32 low-rank factors.
 */
export type MemberForm = { precision: "float64" } | { precision: "float32"; factoredRank: number };

/**
 * A kernel is built for a problem's shape (its model, K) and evaluates whatever batch of that
 * shape each call names: `on`, the problem on one iteration's batch (Problem.at), or a data
 * shard's rows. It holds no iteration of its own, so one kernel serves every batch of a job.
 */
export interface EnsembleKernel<P extends Problem = Problem> {
  readonly name: string;
  /** where the time went, summed over calls */
  readonly timings: KernelTimings;
  /** seconds its construction took (ONNX sessions, RNG workers loading), before any iteration */
  readonly startupSeconds?: number;
  /** K, perturbation members besides θ */
  readonly k: number;
  /** the members' precision, which direction() follows */
  readonly members: MemberForm;
  /** Φ, QᵀWQ and Qᵀg of the loss at θ on `on`'s data (no ½α‖θ‖² term: the reduction adds it) */
  statistics(theta: Float64Array, draw: EnsembleDraw, on: P): Promise<EnsembleStatistics>;
  /** out ← Ω s for the ensemble of the last statistics() call */
  direction(s: Float64Array, out: Float64Array): void;
  /** the loss at θ on `on`'s data */
  objective(theta: Float64Array, on: P): Promise<number>;
  /** the model's outputs at θ for any rows (fast kernels; full-split evaluation uses it) */
  predict?: Predictor;
  dispose(): Promise<void>;
}
