// The modified EnKF's failure policy, one value built from the spec (as EnsembleKalmanProcesses.jl
// attaches a failure handler to a process). A member whose forward came back NaN or ±Inf makes
// its row and column of QᵀWQ and its entry of Qᵀg non-finite (and only those). Such members are
// dropped: the K×K system is solved over the valid members and the dropped ones get s_j = 0.
// When more than the tolerated fraction fail, or fewer than 2 are left, the iteration is redrawn
// with σ halved from a fresh stream (retry a uses the seed retrySeed(seed, a); retry 0 is the
// plain seed), at most `retries` times. A non-finite Φ at the mean rejects the iteration.

import { solveSymmetric } from "../math/linalg.ts";
import { factoredBlocks, type EnsembleDraw, type FactoredBlock } from "../math/perturbation.ts";
import type { ModifiedEnkfSpec } from "../spec/job.ts";
import { gammaValue } from "./schedules.ts";

/** The seed of retry `attempt`'s ensemble (attempt 0: the job's seed). */
export function retrySeed(seed: number, attempt: number): number {
  return attempt === 0 ? seed : (seed + attempt * 2_654_435_761) % Number.MAX_SAFE_INTEGER;
}

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

export interface Solution {
  /** the step in ensemble coordinates (0 for dropped members) */
  s: Float64Array;
  gamma: number;
  /** bᵀs, the line search's slope */
  slope: number;
  /** how the system was solved */
  solver: string;
}

/**
 * Solves (QᵀWQ + γI) s = −Qᵀg over the valid members; s_j = 0 for the dropped ones. γ comes from
 * the valid members' trace.
 */
export function solveValid(
  gram: Float64Array,
  rhs: Float64Array,
  k: number,
  mask: Uint8Array,
  valid: number,
  spec: ModifiedEnkfSpec,
): Solution {
  const idx: number[] = [];
  for (let j = 0; j < k; j++) if (mask[j]) idx.push(j);
  let trace = 0;
  for (const j of idx) trace += gram[j * k + j];
  const gamma = gammaValue(spec.gamma, trace, valid);
  const system = new Float64Array(valid * valid),
    b = new Float64Array(valid);
  if (valid === k) system.set(gram);
  for (let a = 0; a < valid; a++) {
    b[a] = rhs[idx[a]];
    if (valid < k) for (let c = 0; c < valid; c++) system[a * valid + c] = gram[idx[a] * k + idx[c]];
    system[a * valid + a] += gamma;
  }
  const solved = solveSymmetric(system, b, valid);
  const s = new Float64Array(k);
  let slope = 0;
  for (let a = 0; a < valid; a++) {
    s[idx[a]] = -solved.x[a];
    slope += rhs[idx[a]] * s[idx[a]];
  }
  return { s, gamma, slope, solver: solved.method };
}

export interface FailurePolicy {
  /** Ω of iteration `iteration`, retry `attempt`: σ halved per retry, a fresh stream per retry */
  draw(sigma: number, iteration: number, attempt: number): EnsembleDraw;
  /** what the statistics of retry `attempt` allow */
  judge(stats: { phi: number; gram: Float64Array; rhs: Float64Array }, attempt: number): EnsembleVerdict;
  /** the step over the members an "ok" verdict kept */
  solve(stats: { gram: Float64Array; rhs: Float64Array }, kept: Extract<EnsembleVerdict, { kind: "ok" }>): Solution;
}

/** `matrices`: the model's dense weight matrices, which a low-rank perturbation factors. */
export function failurePolicy(spec: ModifiedEnkfSpec, matrices: readonly FactoredBlock[] = []): FailurePolicy {
  const k = spec.ensembleSize;
  const { tolerance, retries } = spec.failedMembers;
  const p = spec.perturbation;
  const shape =
    typeof p === "string"
      ? { kind: p }
      : { kind: "gaussian" as const, lowRank: { rank: p.rank, blocks: factoredBlocks(matrices, p.rank) } };
  return {
    draw: (sigma, iteration, attempt) => ({
      sigma: sigma * 0.5 ** attempt,
      ...shape,
      seed: retrySeed(spec.seed, attempt),
      iteration,
    }),
    judge(stats, attempt) {
      if (!Number.isFinite(stats.phi)) return { kind: "bad-mean" };
      const { mask, valid } = validMembers(stats.gram, stats.rhs, k);
      const failed = k - valid;
      if (valid >= 2 && failed <= tolerance * k) return { kind: "ok", mask, valid };
      return attempt < retries ? { kind: "retry", failed } : { kind: "give-up", failed };
    },
    solve: (stats, kept) => solveValid(stats.gram, stats.rhs, k, kept.mask, kept.valid, spec),
  };
}
