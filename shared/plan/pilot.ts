// The rounds per iteration a job's workflow will take, observed before launch: the job's first
// iterations run here, in process, asked as the workflow's reducer asks (speculation on: a whole
// line-search ladder per round, and the next iteration's statistics at the speculated rung;
// shared/enkf/modifiedEnkf.ts). The steps are the workflow's own, so each ask is one of its rounds.

import type { Dataset } from "../data/types.ts";
import { processFor } from "../enkf/processes.ts";
import { jobKernel, jobProblem, type NetworkJob } from "../setup/jobSetup.ts";

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

export async function pilotRounds(
  job: NetworkJob,
  dataset: Dataset,
  limits: PilotLimits = { maxIterations: 200, seconds: 10 },
): Promise<Pilot> {
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const problem = jobProblem(job, dataset);
  const kernel = (await jobKernel(job, problem, () => {}))!;
  try {
    const stop = {
      ...job.stop,
      maxIterations: Math.min(job.stop.maxIterations, limits.maxIterations),
      timeLimit: undefined,
    };
    const { process, answer } = processFor(problem, job.optimizer, stop, job.problem.regularization, kernel, true);
    let state = process.init(problem.initial());
    let rounds = 0;
    // whole iterations only: the clock is read when a round finished one
    for (let ask = process.ask(state); ask; ask = process.ask(state)) {
      const told = process.tell(state, await answer(ask), elapsed());
      state = told.state;
      rounds++;
      if (told.records.length > 0 && elapsed() >= limits.seconds) break;
    }
    const iterations = state.progress.history.length;
    const done = state.progress.done;
    const finished =
      done !== null && (done.status !== "max_iterations" || stop.maxIterations === job.stop.maxIterations);
    return {
      iterations,
      rounds,
      roundsPerIteration: iterations > 0 ? (rounds - 1) / iterations : 1,
      finished,
      seconds: elapsed(),
    };
  } finally {
    await kernel.dispose();
  }
}
