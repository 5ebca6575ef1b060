// The in-process run of every method: the job's process (processes.ts) and its one evaluator, driven
// by the run loop (runLoop.ts) with the context of a problem in this process: θ evaluated on the
// full splits through the kernel's forward, the best θ kept in memory, distances to a known
// minimiser. An async generator (one yield per history row) so a caller can show progress or
// cancel between asks; the clock is injected, so the loop itself does no I/O.

import { fitLine } from "../math/stats.ts";
import { distance } from "../math/vector.ts";
import { isNetworkProblem } from "../problems/network.ts";
import type { Problem } from "../problems/types.ts";
import type { EnsembleKernel } from "../kernels/types.ts";
import type { OptimizerSpec, StopSpec } from "../spec/job.ts";
import { posteriorContext } from "./laplacePosterior.ts";
import { processFor } from "./processes.ts";
import { inMemory, runLoop, type LoopOptions, type RunContext } from "./runLoop.ts";
import { discrepancyLevel } from "./selection.ts";
import type { HistoryRow, RunResult } from "./types.ts";

export interface RunSetup {
  problem: Problem;
  optimizer: OptimizerSpec;
  stop: StopSpec;
  /** α of ½α‖θ‖² */
  regularization?: number;
  /** the modified EnKF's ensemble kernel, built for this problem (default: reference) */
  kernel?: EnsembleKernel;
}

/** Metrics for problems with a known minimiser, and the fitted linear rate of the distance. */
function solutionMetrics(problem: Problem, start: Float64Array) {
  return (theta: Float64Array, objective: number, history: readonly HistoryRow[]): Record<string, number> => {
    const out: Record<string, number> = {};
    if (!problem.solution) return out;
    const d0 = distance(start, problem.solution);
    out.distance = distance(theta, problem.solution);
    out.relativeDistance = d0 > 0 ? out.distance / d0 : out.distance;
    if (problem.optimum !== undefined) out.objectiveGap = objective - problem.optimum;
    // rate per iteration of ‖θ−θ*‖, fitted on log-distance over the rows above rounding level
    const xs: number[] = [],
      ys: number[] = [];
    for (const row of history) {
      if (row.distance !== undefined && row.distance > 1e-13) {
        xs.push(row.iteration);
        ys.push(Math.log(row.distance));
      }
    }
    if (xs.length >= 10) {
      const fit = fitLine(xs, ys);
      out.distanceRate = Math.exp(fit.slope);
      out.distanceRateR2 = fit.r2;
    }
    return out;
  };
}

/** The run loop's context for a problem in this process; `timed` receives the evaluations' seconds. */
function localContext(
  setup: RunSetup,
  start: Float64Array,
  alpha: number,
  timed: (seconds: number) => void,
): RunContext {
  const { problem, stop } = setup;
  const known = problem.solution !== undefined && alpha === 0;
  const d0 = known ? distance(start, problem.solution!) : 0;
  const network = isNetworkProblem(problem) ? problem : null;
  return inMemory(stop, {
    ...(problem.evaluate
      ? {
          evaluate: async (theta: Float64Array) => {
            const t = performance.now();
            try {
              return await problem.evaluate!(theta, setup.kernel?.predict);
            } finally {
              timed((performance.now() - t) / 1000);
            }
          },
        }
      : {}),
    warmStart: network?.warmStart ?? false,
    level: network?.kind === "regression" ? discrepancyLevel(stop, network.model.outputs) : null,
    ...(known
      ? {
          annotate: (row: HistoryRow, theta: Float64Array) => {
            row.distance = d0 > 0 ? distance(theta, problem.solution!) / d0 : 0;
          },
        }
      : {}),
    ...(alpha === 0 ? { finalMetrics: solutionMetrics(problem, start) } : {}),
    ...(problem.parameters ? { parameters: (theta: Float64Array) => problem.parameters!(theta) } : {}),
    ...posteriorContext(problem, setup.optimizer),
  });
}

/**
 * Runs a job in this process; yields each history row as it is produced and returns the result.
 *
 * @example
 * ```ts
 * const run = optimize({ problem, optimizer: job.optimizer, stop: job.stop, kernel });
 * for (let r = await run.next(); !r.done; r = await run.next()) console.log(r.value.objective);
 * ```
 */
export async function* optimize(setup: RunSetup, opts: LoopOptions = {}): AsyncGenerator<HistoryRow, RunResult, void> {
  const { problem } = setup;
  const alpha = setup.regularization ?? 0;
  const start = problem.initial();
  let evaluationSeconds = 0;
  let built: ReturnType<typeof processFor>;
  try {
    built = processFor(problem, setup.optimizer, setup.stop, alpha, setup.kernel);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return {
      status: "failed",
      message,
      iterations: 0,
      objective: NaN,
      evaluations: 0,
      seconds: 0,
      theta: start,
      history: [],
      metrics: {},
    };
  }
  const ctx = localContext(setup, start, alpha, (s) => {
    evaluationSeconds += s;
  });
  const result = yield* runLoop(built.process, built.answer, ctx, start, opts);
  return { ...result, evaluationSeconds };
}

/** Runs a job to completion. */
export async function optimizeAll(setup: RunSetup, opts: LoopOptions = {}): Promise<RunResult> {
  const it = optimize(setup, opts);
  for (;;) {
    const r = await it.next();
    if (r.done) return r.value;
  }
}
