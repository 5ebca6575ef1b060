// The in-process answers to the modified EnKF's asks (modifiedEnkf.ts): one ensemble kernel over
// the problem's own data, reduced exactly as the workflow reduces its shards' partials (one
// partial here; shared/distributed/shardPartial.ts), so a one-shard workflow run takes bitwise
// the same steps. The kernel is built without the ½α‖θ‖² term; the reduction adds it.

import type { EnsembleKernel } from "../kernels/types.ts";
import { kernelPartial, reducePartials, reduceTrial } from "../distributed/shardPartial.ts";
import { onIteration, type Problem } from "../problems/types.ts";
import { trialPoint } from "../math/vector.ts";
import type { Answer, Ask, ModifiedEnkf } from "./modifiedEnkf.ts";

export function kernelAnswers(problem: Problem, kernel: EnsembleKernel, alpha: number, draw: ModifiedEnkf["draw"]): (ask: Ask) => Promise<Answer> {
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
      const ensemble = draw(ask);
      const part = kernelPartial(0, kernel.k, rows, await kernel.statistics(ask.point, ensemble, onIteration(problem, ask.iteration)));
      answer.stats = reducePartials([part], 1, alpha > 0 ? { alpha, theta: ask.point, draw: ensemble } : undefined);
    }
    return answer;
  };
}
