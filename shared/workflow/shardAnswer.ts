// The reducer's answer to a modified-EnKF ask from the data shards' shares (pure): the statistics
// summed in shard order (../distributed/shardPartial.ts's PartialSum, through a reduction tree or
// not) with d = Ωs formed from the draw as the workers' kernel
// held the members (direction.ts), and Φ at every rung of the trial's ladder from the shards' sums.

import type { Answer, Ask } from "../enkf/modifiedEnkf.ts";
import { trialPoint } from "../math/vector.ts";
import { memberDirection } from "../distributed/direction.ts";
import { meanStatistics, reduceLadder, type PartialSum } from "../distributed/shardPartial.ts";

/**
 * `sum`: every shard's partial, summed (statistics asks); `shares`: every shard's sums at the
 * ladder's rungs (trial asks); `alpha`: the ½α‖θ‖² weight, added here once.
 *
 * @example
 * ```ts
 * const sum = new PartialSum(k);
 * for (const p of await Promise.all(shards.map(evaluate))) sum.add(p);
 * const answer = shardAnswer(ask, sum, shares, alpha);
 * ({ state } = enkf.tell(state, answer, elapsed));
 * ```
 */
export function shardAnswer(
  ask: Ask,
  sum: PartialSum,
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
    const reduced = meanStatistics(sum, alpha > 0 ? { alpha, theta: ask.point, draw: ask.draw } : undefined);
    // every worker runs the job's kernel configuration; a shard without rows of this batch ran none
    const form = sum.members ?? { precision: "float64" as const };
    answer.stats = { ...reduced, direction: (s, out) => memberDirection(form, ask.draw, ask.point, s, out) };
  }
  return answer;
}
