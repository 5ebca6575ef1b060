// Backtracking line search with the Armijo sufficient-decrease test:
// accept η when Φ(θ + ηd) ≤ Φ(θ) + c1·η·slope, slope = ∇Φᵀd (here its ensemble estimate bᵀs);
// otherwise η ← shrink·η, at most maxBacktracks times. Off: the first trial is taken if finite.

import type { LineSearchSpec } from "../spec/job.ts";

export interface LineSearchParams {
  c1: number;
  shrink: number;
  maxBacktracks: number;
}

export function lineSearchParams(spec: LineSearchSpec): LineSearchParams | null {
  if (spec === false) return null;
  if (spec === true) return { c1: 1e-4, shrink: 0.5, maxBacktracks: 8 };
  return spec;
}

export interface LineSearchResult {
  accepted: boolean;
  /** step length of the accepted trial (of the last trial if rejected) */
  eta: number;
  /** Φ at the last trial */
  phi: number;
  backtracks: number;
  /** trials evaluated */
  trials: number;
}

/** `trial(η)` evaluates Φ(θ + ηd); the last call made is the accepted point when accepted. */
export async function backtrack(phi0: number, slope: number, eta0: number, params: LineSearchParams | null, trial: (eta: number) => number | Promise<number>): Promise<LineSearchResult> {
  if (params === null) {
    const phi = await trial(eta0);
    return { accepted: Number.isFinite(phi), eta: eta0, phi, backtracks: 0, trials: 1 };
  }
  if (!(slope < 0)) return { accepted: false, eta: 0, phi: phi0, backtracks: 0, trials: 0 };
  let eta = eta0;
  for (let b = 0; b <= params.maxBacktracks; b++) {
    const phi = await trial(eta);
    if (Number.isFinite(phi) && phi <= phi0 + params.c1 * eta * slope) {
      return { accepted: true, eta, phi, backtracks: b, trials: b + 1 };
    }
    if (b === params.maxBacktracks) return { accepted: false, eta, phi, backtracks: b, trials: b + 1 };
    eta *= params.shrink;
  }
  /* c8 ignore next */
  throw new Error("unreachable");
}
