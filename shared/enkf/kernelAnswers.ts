// The in-process evaluator of the modified EnKF's asks (modifiedEnkf.ts): one ensemble kernel over
// the problem's own data, reduced exactly as the workflow reduces its shards' partials (one
// partial here; shared/distributed/shardPartial.ts), so a one-shard workflow run takes bitwise the
// same steps. d = Ωs comes from the kernel's own members (kernel.direction), the same numbers the
// workflow's reducer forms from the draw for this kernel (shared/distributed/direction.ts).

import type { EnsembleKernel } from "../kernels/types.ts";
import { kernelPartial, reducePartials, reduceTrial } from "../distributed/shardPartial.ts";
import { onIteration, type Problem } from "../problems/types.ts";
import { trialPoint } from "../math/vector.ts";
import type { Answer, Ask } from "./modifiedEnkf.ts";

/**
 * Answers asks through `kernel` (built for `problem` and K) with the ½α‖θ‖² term of weight `alpha`.
 *
 * @example
 * ```ts
 * const answer = kernelAnswers(problem, await createKernel(problem, spec, compute, warn), alpha);
 * const reply = await answer(enkf.ask(state)!); // { stats } or { trialPhis }
 * ```
 */
export function kernelAnswers(problem: Problem, kernel: EnsembleKernel, alpha: number): (ask: Ask) => Promise<Answer> {
  // a loss in sum form is divided by its rows at the reduction; otherwise the loss is Φ itself
  const rows = problem.lossRows ?? 1;
  return async (ask) => {
    const answer: Answer = {};
    if (ask.trial) {
      const { iteration, base, direction, etas } = ask.trial;
      const on = onIteration(problem, iteration);
      answer.trialPhis = [];
      for (const eta of etas) {
        const point = trialPoint(base, direction, eta);
        answer.trialPhis.push(reduceTrial([{ rows, phi: await kernel.objective(point, on) }], point, alpha));
      }
    }
    if (ask.statistics) {
      const stats = await kernel.statistics(ask.point, ask.draw, onIteration(problem, ask.iteration));
      const part = kernelPartial(0, kernel.k, rows, stats);
      const reduced = reducePartials([part], 1, alpha > 0 ? { alpha, theta: ask.point, draw: ask.draw } : undefined);
      // the kernel holds the members of its last statistics, which these are
      answer.stats = { ...reduced, direction: (s, out) => kernel.direction(s, out) };
    }
    return answer;
  };
}
