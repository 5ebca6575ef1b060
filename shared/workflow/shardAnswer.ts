// The reducer's answer to a modified-EnKF ask from the data shards' shares (pure): the statistics
// reduced in shard order (shardPartial.ts) with d = Ωs formed from the draw as the workers' kernel
// held the members (direction.ts), and Φ at every rung of the trial's ladder from the shards' sums.

import type { Answer, Ask } from "../enkf/modifiedEnkf.ts";
import { trialPoint } from "../math/vector.ts";
import { memberDirection } from "../distributed/direction.ts";
import { reduceLadder, reducePartials, type ShardPartial } from "../distributed/shardPartial.ts";

/**
 * `parts`: every shard's partial (statistics asks); `shares`: every shard's sums at the ladder's
 * rungs (trial asks); `alpha`: the ½α‖θ‖² weight, added here once.
 *
 * @example
 * ```ts
 * const answer = shardAnswer(ask, await Promise.all(shards.map(evaluate)), shares, alpha);
 * ({ state } = enkf.tell(state, answer, elapsed));
 * ```
 */
export function shardAnswer(
  ask: Ask,
  parts: readonly ShardPartial[],
  shares: readonly { rows: number; phis: readonly number[] }[],
  alpha: number,
): Answer {
  const answer: Answer = {};
  if (ask.trial) {
    const { base, direction, etas } = ask.trial;
    answer.trialPhis = reduceLadder(
      shares,
      etas.map((eta) => trialPoint(base, direction, eta)),
      alpha,
    );
  }
  if (ask.statistics) {
    const reduced = reducePartials(
      parts,
      parts.length,
      alpha > 0 ? { alpha, theta: ask.point, draw: ask.draw } : undefined,
    );
    // every worker runs the job's kernel configuration; a shard without rows of this batch ran none
    const form = parts.find((p) => p.members)?.members ?? { precision: "float64" as const };
    answer.stats = { ...reduced, direction: (s, out) => memberDirection(form, ask.draw, ask.point, s, out) };
  }
  return answer;
}
