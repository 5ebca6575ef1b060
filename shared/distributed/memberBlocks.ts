// The member-parallel round (inverse problems, whose forward is the expensive part): the points a
// round of the modified EnKF evaluates, cut into blocks, and the answer formed from their outputs.
// A round's points, in order: the statistics point θ and its K members θ + ω_j (Ω regenerated from
// the seed), then the pending trial's ladder rungs base + η d. Block b evaluates a contiguous run
// of them and writes its outputs (count × M numbers); the reducer puts the blocks back in order and
// forms Q, QᵀWQ, Qᵀg and the rungs' Φ as the in-process kernels do (reference.ts, batched.ts:
// Q_j = F(θ + ω_j) − F(θ), then the loss's Gauss-Newton sums), so any number of blocks gives the
// in-process θ bit for bit. Pure: no I/O.

import { ensembleSystem } from "../losses/ensembleSystem.ts";
import type { OutputLoss } from "../losses/types.ts";
import { perturbation, regeneratedDirection, type EnsembleDraw } from "../math/perturbation.ts";
import { trialPoint } from "../math/vector.ts";
import { kernelPartial, reducePartials, reduceTrial, type ReducedStatistics } from "./shardPartial.ts";

/** What a round of the modified EnKF asks for (its Ask), as far as the points go. */
export interface RoundAsk {
  /** the statistics' point θ, and Ω */
  point: Float64Array;
  draw: EnsembleDraw;
  statistics: boolean;
  /** the pending trial's ladder: Φ at base + η d for each η */
  trial?: { base: Float64Array; direction: Float64Array; etas: readonly number[] };
}

/** The round's answer (the modified EnKF's Answer): the statistics with d = Ωs, the rungs' Φ. */
export interface RoundAnswer {
  stats?: ReducedStatistics & { direction(s: Float64Array, out: Float64Array): void };
  trialPhis?: number[];
}

export interface RoundPoints {
  /** count × n, member-major */
  points: Float64Array;
  count: number;
  /** parameters per point */
  n: number;
  /** points of the statistics (1 + K), or 0 when the round asks only for the trial */
  members: number;
  /** the ladder's rungs after them */
  rungs: number;
}

/** Every point round `ask` evaluates, in the order above. */
export function roundPoints(ask: RoundAsk, k: number, n: number): RoundPoints {
  const members = ask.statistics ? k + 1 : 0,
    rungs = ask.trial?.etas.length ?? 0;
  const count = members + rungs,
    points = new Float64Array(count * n);
  if (members) {
    points.set(ask.point);
    const w = new Float64Array(n);
    for (let j = 0; j < k; j++) {
      perturbation(ask.draw, j, w);
      const p = points.subarray((j + 1) * n, (j + 2) * n);
      for (let i = 0; i < n; i++) p[i] = ask.point[i] + w[i];
    }
  }
  if (ask.trial) {
    const { base, direction, etas } = ask.trial;
    etas.forEach((eta, r) => points.set(trialPoint(base, direction, eta), (members + r) * n));
  }
  return { points, count, n, members, rungs };
}

/** Block b of `blocks` over `count` points: [start, end), contiguous, sizes differing by at most one. */
export function blockRange(count: number, blocks: number, b: number): { start: number; end: number } {
  if (!Number.isInteger(blocks) || blocks < 1 || !Number.isInteger(b) || b < 0 || b >= blocks)
    throw new RangeError(`block ${b} of ${blocks}`);
  const base = Math.floor(count / blocks),
    extra = count % blocks;
  const start = b * base + Math.min(b, extra);
  return { start, end: start + base + (b < extra ? 1 : 0) };
}

/**
 * The ask's answer from the outputs of all its points (count × size, in roundPoints' order), as
 * kernelAnswers forms it from a kernel: the statistics as one partial over `rows` rows (a loss in
 * sum form; 1 otherwise), d = Ωs in float64 (the members were evaluated in float64) and the
 * rungs' Φ; `alpha` the ½α‖θ‖² weight.
 */
export function roundAnswer(
  loss: OutputLoss,
  ask: RoundAsk,
  k: number,
  size: number,
  rp: RoundPoints,
  outs: Float64Array,
  alpha = 0,
  rows = 1,
): RoundAnswer {
  if (outs.length !== rp.count * size) throw new RangeError(`${outs.length} outputs for ${rp.count} points of ${size}`);
  const answer: RoundAnswer = {};
  if (ask.trial) {
    answer.trialPhis = [];
    for (let r = 0; r < rp.rungs; r++) {
      const at = rp.members + r;
      const point = rp.points.subarray(at * rp.n, (at + 1) * rp.n);
      answer.trialPhis.push(
        reduceTrial([{ rows, phi: loss.value(outs.subarray(at * size, (at + 1) * size)) }], point, alpha),
      );
    }
  }
  if (ask.statistics) {
    const f0 = outs.subarray(0, size),
      q = outs.slice(size, (k + 1) * size);
    const gram = new Float64Array(k * k),
      rhs = new Float64Array(k);
    ensembleSystem(loss, f0, q, k, gram, rhs);
    const part = kernelPartial(0, k, rows, { phi: loss.value(f0), gram, rhs, evaluations: k + 1 });
    const reduced = reducePartials([part], 1, alpha > 0 ? { alpha, theta: ask.point, draw: ask.draw } : undefined);
    answer.stats = { ...reduced, direction: (s, out) => regeneratedDirection(ask.draw, s, out) };
  }
  return answer;
}
