// σ schedules (constant, geometric decay, adaptive like the stencil of implicit filtering),
// the step length's schedule (constant, inverse-time, cosine, step) and the γ rule (fixed, or
// relative to trace(QᵀWQ)/K).

import type { GammaSpec, SigmaSpec, StepScheduleSpec } from "../spec/job.ts";

export interface StepOutcome {
  accepted: boolean;
  /** backtracks the line search needed (0 = full step) */
  backtracks: number;
}

export interface SigmaSchedule {
  readonly initial: number;
  /** σ for iteration k+1 given σ_k and the outcome of iteration k */
  next(sigma: number, nextIteration: number, outcome: StepOutcome): number;
}

export function sigmaSchedule(spec: SigmaSpec): SigmaSchedule {
  if (typeof spec === "number") return { initial: spec, next: (s) => s };
  switch (spec.schedule) {
    case "constant":
      return { initial: spec.initial, next: (s) => s };
    case "geometric": {
      const { initial, decay, minimum } = spec;
      return { initial, next: (_s, k) => Math.max(initial * Math.pow(decay, k), minimum) };
    }
    case "adaptive": {
      const { initial, shrink, grow, minimum } = spec;
      const maximum = spec.maximum ?? Infinity;
      return {
        initial,
        next(s, _k, o) {
          if (!o.accepted) return Math.max(s * shrink, minimum);
          if (o.backtracks === 0) return Math.min(s * grow, maximum);
          return s;
        },
      };
    }
  }
}

/** γ for a K×K system whose Gram matrix has the given trace. */
export function gammaValue(spec: GammaSpec, gramTrace: number, k: number): number {
  if (typeof spec === "number") return spec;
  return (spec.relative * Math.max(gramTrace, 0)) / k;
}

/**
 * η_k, the step length of iteration k (the line search's first rung, or the step without it):
 * constant η₀; inverse-time η₀/(1 + k/τ); cosine η_min + (η₀ − η_min)(1 + cos(π·min(k, T)/T))/2 with
 * η_min = minimum·η₀; step η₀·factor^⌊k/every⌋. Constant gives η₀ itself, bit for bit.
 */
export function stepLength(spec: StepScheduleSpec, eta0: number, k: number): number {
  switch (spec.schedule) {
    case "constant":
      return eta0;
    case "inverse-time":
      return eta0 / (1 + k / spec.tau);
    case "cosine": {
      const floor = spec.minimum * eta0;
      return floor + ((eta0 - floor) * (1 + Math.cos((Math.PI * Math.min(k, spec.iterations)) / spec.iterations))) / 2;
    }
    case "step":
      return eta0 * Math.pow(spec.factor, Math.floor(k / spec.every));
  }
}
