// Backtracking line search with the Armijo sufficient-decrease test, as a pure ask/tell pair so
// that any driver (a loop over one kernel, or a workflow whose trials ride on later rounds) takes
// the same decisions: accept η when Φ(θ + ηd) ≤ Φ(θ) + c1·η·slope, slope = ∇Φᵀd (for the
// modified EnKF its ensemble estimate bᵀs); otherwise η ← shrink·η, at most maxBacktracks times.
// Off: the first trial is taken if its Φ is finite. The modified EnKF and gradient descent use it.

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

/** A trial point θ + ηd the search is waiting on. */
export interface Trial {
  /** Φ(θ), the baseline */
  phi0: number;
  /** the directional derivative ∇Φᵀd (its estimate) */
  slope: number;
  eta: number;
  /** how many times η has been shrunk */
  backtracks: number;
}

/** The first trial (η = eta0), or null when d is no descent direction and the step is rejected untried. */
export function firstTrial(params: LineSearchParams | null, phi0: number, slope: number, eta0: number): Trial | null {
  if (params !== null && !(slope < 0)) return null;
  return { phi0, slope, eta: eta0, backtracks: 0 };
}

export type TrialVerdict =
  | { kind: "accept" }
  /** try again at the shrunk step */
  | { kind: "backtrack"; next: Trial }
  /** the last backtrack failed (or, with the search off, Φ was not finite) */
  | { kind: "reject" };

/** The next rung of the backtracking ladder: η shrunk once. */
export function backtracked(params: LineSearchParams, t: Trial): Trial {
  return { ...t, eta: t.eta * params.shrink, backtracks: t.backtracks + 1 };
}

/**
 * The step lengths the search may still try from `t` on, in order: η, shrink·η, … down to the
 * last backtrack (one rung with the search off). The workflow evaluates them all in one round.
 */
export function remainingLadder(params: LineSearchParams | null, t: Trial): number[] {
  const etas = [t.eta];
  if (params === null) return etas;
  for (let r = t; r.backtracks < params.maxBacktracks;) {
    r = backtracked(params, r);
    etas.push(r.eta);
  }
  return etas;
}

/** What Φ at the trial point decides. */
export function judgeTrial(params: LineSearchParams | null, t: Trial, phi: number): TrialVerdict {
  const sufficient = Number.isFinite(phi) && (params === null || phi <= t.phi0 + params.c1 * t.eta * t.slope);
  if (sufficient) return { kind: "accept" };
  if (params !== null && t.backtracks < params.maxBacktracks)
    return { kind: "backtrack", next: backtracked(params, t) };
  return { kind: "reject" };
}
