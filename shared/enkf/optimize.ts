// The run loop shared by every entry point: builds the optimizer a job names, iterates it,
// records the history, applies the stopping rule and assembles the result. It is an async
// generator (one yield per iteration, async because kernels may be) so a caller can show progress
// or cancel between iterations; the clock is injected, so the loop itself does no I/O.

import { distance } from "../math/vector.ts";
import { fitLine } from "../math/stats.ts";
import type { Problem } from "../problems/types.ts";
import type { OptimizerSpec, StopSpec } from "../spec/job.ts";
import { eki } from "./eki.ts";
import { gradientDescent } from "./gradientDescent.ts";
import { modifiedEnkf } from "./modifiedEnkf.ts";
import { checkStop } from "./stopping.ts";
import type { HistoryRow, Optimizer, RunResult, RunStatus } from "./types.ts";
import { referenceKernel } from "../kernels/reference.ts";
import type { EnsembleKernel } from "../kernels/types.ts";

/** Builds the optimizer a job names; the modified EnKF evaluates through `kernel` (default: reference). */
export async function createOptimizer(problem: Problem, spec: OptimizerSpec, alpha = 0, theta0?: Float64Array, kernel?: EnsembleKernel): Promise<Optimizer> {
  switch (spec.method) {
    case "modified-enkf": return modifiedEnkf(problem, spec, kernel ?? referenceKernel(problem, spec.ensembleSize, alpha), theta0);
    case "enkf": return eki(problem, spec, alpha, theta0);
    case "gradient-descent": return gradientDescent(problem, spec, alpha, theta0);
  }
}

export interface RunOptions {
  /** seconds, monotonic (default: performance.now()/1000) */
  now?: () => number;
  /** polled between iterations; true ends the run with status "cancelled" */
  cancelled?: () => boolean;
}

export interface RunSetup {
  problem: Problem;
  optimizer: OptimizerSpec;
  stop: StopSpec;
  /** α of ½α‖θ‖² */
  regularization?: number;
  /** the modified EnKF's ensemble kernel, built for this problem and α (default: reference) */
  kernel?: EnsembleKernel;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Metrics for problems with a known minimiser, and the fitted linear rate of the distance. */
function solutionMetrics(problem: Problem, theta: Float64Array, start: Float64Array, objective: number, history: readonly HistoryRow[]): Record<string, number> {
  const out: Record<string, number> = {};
  if (!problem.solution) return out;
  const d0 = distance(start, problem.solution);
  out.distance = distance(theta, problem.solution);
  out.relativeDistance = d0 > 0 ? out.distance / d0 : out.distance;
  if (problem.optimum !== undefined) out.objectiveGap = objective - problem.optimum;
  // rate per iteration of ‖θ−θ*‖, fitted on log-distance over the rows above rounding level
  const xs: number[] = [], ys: number[] = [];
  for (const row of history) {
    if (row.distance !== undefined && row.distance > 1e-13) { xs.push(row.iteration); ys.push(Math.log(row.distance)); }
  }
  if (xs.length >= 10) {
    const fit = fitLine(xs, ys);
    out.distanceRate = Math.exp(fit.slope);
    out.distanceRateR2 = fit.r2;
  }
  return out;
}

/** Runs a job; yields each history row as it is produced and returns the result. */
export async function* optimize(setup: RunSetup, opts: RunOptions = {}): AsyncGenerator<HistoryRow, RunResult, void> {
  const now = opts.now ?? (() => performance.now() / 1000);
  const t0 = now();
  const { problem, stop } = setup;
  const alpha = setup.regularization ?? 0;
  const start = problem.initial();
  const history: HistoryRow[] = [];
  const hasSolution = problem.solution !== undefined && alpha === 0;
  const d0 = hasSolution ? distance(start, problem.solution!) : 0;

  let opt: Optimizer;
  try {
    opt = await createOptimizer(problem, setup.optimizer, alpha, start, setup.kernel);
  } catch (e) {
    return { status: "failed", message: errorMessage(e), iterations: 0, objective: NaN, evaluations: 0, seconds: now() - t0, theta: start, history, metrics: {} };
  }
  const startObjective = opt.objective;
  let status: RunStatus = "max_iterations";
  let message = "";
  let rejections = 0;
  for (let k = 0; ; k++) {
    if (opts.cancelled?.()) { status = "cancelled"; message = `cancelled after ${k} iterations`; break; }
    try {
      const rec = await opt.step(k);
      rejections = rec.accepted ? 0 : rejections + 1;
      const row: HistoryRow = { iteration: k + 1, ...rec, seconds: now() - t0 };
      if (hasSolution) row.distance = d0 > 0 ? distance(opt.theta, problem.solution!) / d0 : 0;
      if (problem.evaluate && stop.evaluateEvery !== undefined && row.iteration % stop.evaluateEvery === 0) row.evaluation = await problem.evaluate(opt.theta, setup.kernel?.predict);
      history.push(row);
      yield row;
    } catch (e) {
      status = "failed";
      message = `iteration ${k + 1} failed: ${errorMessage(e)}`;
      break;
    }
    const decision = checkStop(stop, history, rejections, now() - t0, startObjective);
    if (decision) { status = decision.status; message = decision.message; break; }
  }
  const theta = Float64Array.from(opt.theta);
  const metrics = alpha === 0 ? solutionMetrics(problem, theta, start, opt.objective, history) : {};
  if (problem.evaluate && status !== "failed") Object.assign(metrics, await problem.evaluate(theta, setup.kernel?.predict));
  return {
    status,
    message,
    iterations: history.length,
    objective: opt.objective,
    evaluations: opt.evaluations,
    seconds: now() - t0,
    theta,
    history,
    metrics,
  };
}

/** Runs a job to completion. */
export async function optimizeAll(setup: RunSetup, opts: RunOptions = {}): Promise<RunResult> {
  const it = optimize(setup, opts);
  for (;;) {
    const r = await it.next();
    if (r.done) return r.value;
  }
}
