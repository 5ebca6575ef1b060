// The rounds per iteration a job's workflow will take, observed before launch: the job's first
// iterations run here, in process, asked as the workflow's reducer asks (speculation on: a whole
// line-search ladder per round, and the next iteration's statistics at the speculated rung;
// shared/enkf/modifiedEnkf.ts). The steps are the workflow's own, so each ask is one of its rounds.

import type { Dataset } from "../data/types.ts";
import { kernelAnswers } from "../enkf/kernelAnswers.ts";
import { modifiedEnkf, type Ask } from "../enkf/modifiedEnkf.ts";
import { jobKernel, jobProblem, type NetworkJob } from "../setup/jobSetup.ts";
import { denseMatrices } from "../models/model.ts";
import type { NetworkProblem } from "../problems/network.ts";

export interface Pilot {
  iterations: number;
  rounds: number;
  /** rounds per iteration over the pilot (the first round, Init's, not counted) */
  roundsPerIteration: number;
  /** the job's own stopping rule ended the run within the pilot: `iterations` is the whole run */
  finished: boolean;
  seconds: number;
}

export interface PilotLimits {
  maxIterations: number;
  /** stop after the iteration that passes this many seconds */
  seconds: number;
}

export async function pilotRounds(job: NetworkJob, dataset: Dataset, limits: PilotLimits = { maxIterations: 200, seconds: 10 }): Promise<Pilot> {
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const problem = jobProblem(job, dataset) as NetworkProblem;
  const kernel = (await jobKernel(job, problem, () => {}))!;
  try {
    const stop = { ...job.stop, maxIterations: Math.min(job.stop.maxIterations, limits.maxIterations), timeLimit: undefined };
    const machine = modifiedEnkf(job.optimizer, stop, {
      classification: job.problem.type === "classification", speculate: true,
      // the kernel holds Ω of its last statistics, those the step is solved from
      direction: (_draw, s, out) => kernel.direction(s, out),
      matrices: denseMatrices(problem.model),
    });
    const answer = kernelAnswers(problem, kernel, job.problem.regularization, machine.draw);
    let { state, ask } = machine.start(problem.initial()) as { state: ReturnType<typeof machine.start>["state"]; ask: Ask | null };
    // rounds up to the last whole iteration
    let rounds = 0, counted = 0;
    while (ask && elapsed() < limits.seconds) {
      const before = state.history.length;
      ({ state, ask } = machine.tell(state, ask, await answer(ask), elapsed()));
      rounds++;
      if (state.history.length > before) counted = rounds;
    }
    const iterations = state.history.length;
    const finished = state.done !== null && (state.done.status !== "max_iterations" || stop.maxIterations === job.stop.maxIterations);
    return { iterations, rounds: counted, roundsPerIteration: iterations > 0 ? (counted - 1) / iterations : 1, finished, seconds: elapsed() };
  } finally {
    await kernel.dispose();
  }
}
