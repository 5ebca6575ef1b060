// σ schedules (constant, geometric decay, adaptive like the stencil of implicit filtering)
// and the γ rule (fixed, or relative to trace(QᵀWQ)/K).

import type { GammaSpec, SigmaSpec } from "../spec/job.ts";

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
