// Failed ensemble members: a member whose forward came back NaN or ±Inf makes its row and column
// of QᵀWQ and its entry of Qᵀg non-finite (and only those). Such members are dropped: the K×K
// system is solved over the valid members and the dropped ones get s_j = 0. When more than the
// tolerated fraction fail, or fewer than 2 are left, the iteration is redrawn with σ halved from
// a fresh stream (retry a uses the seed retrySeed(seed, a); retry 0 is the plain seed), at most
// `retries` times. The in-process optimizer and the workflow's reducer share these rules, so
// they take the same steps.

import { solveSymmetric } from "../math/linalg.ts";
import type { ModifiedEnkfSpec } from "../spec/job.ts";
import { gammaValue } from "./schedules.ts";

/** The seed of retry `attempt`'s ensemble (attempt 0: the job's seed). */
export function retrySeed(seed: number, attempt: number): number {
  return attempt === 0 ? seed : (seed + attempt * 2_654_435_761) % Number.MAX_SAFE_INTEGER;
}

/** σ of retry `attempt`. */
export const retrySigma = (sigma: number, attempt: number) => sigma * 0.5 ** attempt;

/**
 * 1 for valid members, 0 for failed ones: a member fails when its entry of Qᵀg or its diagonal of
 * QᵀWQ is not finite, or when its entry against another valid member is not (Inf − Inf).
 */
export function validMembers(gram: Float64Array, rhs: Float64Array, k: number): { mask: Uint8Array; valid: number } {
  const mask = new Uint8Array(k);
  for (let j = 0; j < k; j++) mask[j] = Number.isFinite(rhs[j]) && Number.isFinite(gram[j * k + j]) ? 1 : 0;
  for (let j = 0; j < k; j++) {
    for (let i = 0; mask[j] && i < k; i++) if (mask[i] && !Number.isFinite(gram[j * k + i])) mask[j] = 0;
  }
  let valid = 0;
  for (let j = 0; j < k; j++) valid += mask[j];
  return { mask, valid };
}

export type EnsembleVerdict =
  | { kind: "ok"; mask: Uint8Array; valid: number }
  /** the objective at the mean is not finite: the iteration is rejected */
  | { kind: "bad-mean" }
  /** too many failed members: redraw with σ halved */
  | { kind: "retry"; failed: number }
  /** too many failed members and no retries left: the iteration is rejected */
  | { kind: "give-up"; failed: number };

export function judgeEnsemble(phi: number, gram: Float64Array, rhs: Float64Array, k: number, spec: ModifiedEnkfSpec, attempt: number): EnsembleVerdict {
  if (!Number.isFinite(phi)) return { kind: "bad-mean" };
  const { mask, valid } = validMembers(gram, rhs, k);
  const failed = k - valid;
  if (valid >= 2 && failed <= spec.failedMembers.tolerance * k) return { kind: "ok", mask, valid };
  return attempt < spec.failedMembers.retries ? { kind: "retry", failed } : { kind: "give-up", failed };
}

/**
 * Solves (QᵀWQ + γI) s = −Qᵀg over the valid members; s_j = 0 for the dropped ones. γ comes from
 * the valid members' trace. Returns s, γ, the slope bᵀs and how the system was solved.
 */
export function solveValid(gram: Float64Array, rhs: Float64Array, k: number, mask: Uint8Array, valid: number, spec: ModifiedEnkfSpec): { s: Float64Array; gamma: number; slope: number; solver: string } {
  const idx: number[] = [];
  for (let j = 0; j < k; j++) if (mask[j]) idx.push(j);
  let trace = 0;
  for (const j of idx) trace += gram[j * k + j];
  const gamma = gammaValue(spec.gamma, trace, valid);
  const system = new Float64Array(valid * valid), b = new Float64Array(valid);
  for (let a = 0; a < valid; a++) {
    b[a] = rhs[idx[a]];
    for (let c = 0; c < valid; c++) system[a * valid + c] = gram[idx[a] * k + idx[c]];
    system[a * valid + a] += gamma;
  }
  const solved = solveSymmetric(system, b, valid);
  const s = new Float64Array(k);
  let slope = 0;
  for (let a = 0; a < valid; a++) { s[idx[a]] = -solved.x[a]; slope += rhs[idx[a]] * s[idx[a]]; }
  return { s, gamma, slope, solver: solved.method };
}
