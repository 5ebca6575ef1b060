// Runs the rounds of a sharded job in this process: each round evaluates every shard (its
// partial statistics and, when a trial is pending, its share of the trial's Φ), reduces them in
// shard order and lets rounds.ts decide. The workflow's local engine and tests use it; a
// deployed job does the same through its state machine.

import type { EnsembleKernel } from "../kernels/types.ts";
import type { NetworkProblem } from "../problems/network.ts";
import type { ModifiedEnkfSpec, StopSpec } from "../spec/job.ts";
import { evaluateShard, shardObjective, type ShardData } from "./evaluateShard.ts";
import { planDraw, rounds, type RoundPlan, type RoundState } from "./rounds.ts";
import { reducePartials, reduceTrial } from "./shardPartial.ts";

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

export async function runRounds(run: ShardedRun): Promise<{ state: RoundState; rounds: number }> {
  const now = run.now ?? (() => performance.now() / 1000);
  const t0 = now();
  const { spec, alpha, shards } = run;
  const r = rounds(spec, run.stop, shards[0].kind === "classification");
  const first = r.start(run.theta0);
  let state = first.state;
  let plan: RoundPlan | null = first.plan;
  let count = 0;
  while (plan) {
    const current = plan;
    const draw = planDraw(spec, current);
    const parts = await Promise.all(shards.map((sh) => evaluateShard({ ...sh, iteration: current.iteration, theta: current.point, draw, k: spec.ensembleSize, kernel: run.kernel })));
    const stats = reducePartials(parts, shards.length, alpha > 0 ? { alpha, theta: current.point, draw } : undefined);
    const trial = current.trialIteration;
    const trialPhi = trial === undefined ? undefined : reduceTrial(await Promise.all(shards.map((sh) => shardObjective(sh, current.point, trial, spec.ensembleSize, run.kernel))), current.point, alpha);
    ({ state, plan } = r.reduce(state, current, { stats, trialPhi }, now() - t0));
    count++;
  }
  return { state, rounds: count };
}
