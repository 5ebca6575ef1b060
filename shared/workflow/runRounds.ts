// The rounds of a sharded job in this process, without a store: the workflow's process (the
// modified EnKF with speculation) and its shard fan-out (every shard's partial and ladder shares,
// reduced by shardAnswer) driven by the run loop. Tests and benchmarks use it; a deployed job does
// the same through its state machine (steps/*.ts), one round per ask.

import { enkfProcess } from "../enkf/enkfProcess.ts";
import type { Answer, Ask } from "../enkf/modifiedEnkf.ts";
import type { ProcessState } from "../enkf/process.ts";
import { inMemory, runLoop } from "../enkf/runLoop.ts";
import type { RunResult } from "../enkf/types.ts";
import type { EnsembleKernel } from "../kernels/types.ts";
import { denseMatrices } from "../models/model.ts";
import type { NetworkProblem } from "../problems/network.ts";
import type { ModifiedEnkfSpec, StopSpec } from "../spec/job.ts";
import { evaluateShard, shardObjectives, type ShardData } from "../distributed/evaluateShard.ts";
import { PartialSum } from "../distributed/shardPartial.ts";
import { shardAnswer } from "./shardAnswer.ts";

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

/** The shards' answer to one round's ask. */
function shardRound(run: ShardedRun): (ask: Ask) => Promise<Answer> {
  const k = run.spec.ensembleSize;
  return async (ask) => {
    const parts = await Promise.all(
      run.shards.map((sh) =>
        evaluateShard({ ...sh, iteration: ask.iteration, theta: ask.point, draw: ask.draw, k, kernel: run.kernel }),
      ),
    );
    const trial = ask.trial;
    const shares = trial ? await Promise.all(run.shards.map((sh) => shardObjectives(sh, trial, k, run.kernel))) : [];
    const sum = new PartialSum(k);
    for (const p of parts) sum.add(p);
    return shardAnswer(ask, sum, shares, run.alpha);
  };
}

export async function runRounds(run: ShardedRun): Promise<{ result: RunResult; rounds: number }> {
  const process = enkfProcess(run.spec, run.stop, denseMatrices(run.shards[0].model), true);
  const answer = shardRound(run);
  let rounds = 0;
  const loop = runLoop<ProcessState, Ask, Answer>(
    process,
    (ask) => {
      rounds++;
      return answer(ask);
    },
    inMemory(run.stop),
    run.theta0,
    run.now ? { now: run.now } : {},
  );
  for (;;) {
    const r = await loop.next();
    if (r.done) return { result: r.value, rounds };
  }
}
