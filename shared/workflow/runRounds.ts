// Runs the rounds of a sharded job in this process, without a store: each round evaluates every
// shard (its partial statistics and, when a trial is pending, its shares of Φ at every rung of the
// trial's line-search ladder),
// reduces them in shard order and tells the modified EnKF (../enkf/modifiedEnkf.ts), speculating
// as the workflow does. Tests and benchmarks use it; a deployed job does the same through its
// state machine (steps.ts).

import { modifiedEnkf, type Ask, type EnkfState } from "../enkf/modifiedEnkf.ts";
import type { EnsembleKernel } from "../kernels/types.ts";
import { regeneratedDirection } from "../math/perturbation.ts";
import { denseMatrices } from "../models/model.ts";
import type { NetworkProblem } from "../problems/network.ts";
import type { ModifiedEnkfSpec, StopSpec } from "../spec/job.ts";
import { evaluateShard, shardObjectives, type ShardData } from "../distributed/evaluateShard.ts";
import { reduceLadder, reducePartials } from "../distributed/shardPartial.ts";
import { trialPoint } from "../math/vector.ts";

export interface ShardedRun {
  spec: ModifiedEnkfSpec;
  stop: StopSpec;
  /** α of ½α‖θ‖² */
  alpha: number;
  shards: ShardData[];
  theta0: Float64Array;
  kernel: (problem: NetworkProblem, k: number) => Promise<EnsembleKernel>;
  now?: () => number;
}

export async function runRounds(run: ShardedRun): Promise<{ state: EnkfState; rounds: number }> {
  const now = run.now ?? (() => performance.now() / 1000);
  const t0 = now();
  const { spec, alpha, shards } = run;
  const machine = modifiedEnkf(spec, run.stop, { classification: shards[0].kind === "classification", speculate: true, direction: regeneratedDirection, matrices: denseMatrices(shards[0].model) });
  const first = machine.start(run.theta0);
  let state = first.state;
  let ask: Ask | null = first.ask;
  let count = 0;
  while (ask) {
    const current = ask;
    const draw = machine.draw(current);
    const parts = await Promise.all(shards.map((sh) => evaluateShard({ ...sh, iteration: current.iteration, theta: current.point, draw, k: spec.ensembleSize, kernel: run.kernel })));
    const stats = reducePartials(parts, shards.length, alpha > 0 ? { alpha, theta: current.point, draw } : undefined);
    const trial = current.trial;
    const trialPhis = trial && reduceLadder(
      await Promise.all(shards.map((sh) => shardObjectives(sh, trial, spec.ensembleSize, run.kernel))),
      trial.etas.map((eta) => trialPoint(trial.base, trial.direction, eta)), alpha);
    ({ state, ask } = machine.tell(state, current, { stats, ...(trialPhis ? { trialPhis } : {}) }, now() - t0));
    count++;
  }
  return { state, rounds: count };
}
