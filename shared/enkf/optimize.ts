// The in-process driver of every method: builds the optimizer a job names, iterates it,
// annotates the history (distance to a known minimiser, full-split metrics), and assembles the
// result. The modified EnKF is the ask/tell state of modifiedEnkf.ts answered by one kernel
// (kernelAnswers.ts); EKI and gradient descent step themselves. Every iteration's row goes
// through recordIteration (stopping.ts), the stopping rule the workflow's reducer also applies.
// An async generator (one yield per iteration, async because kernels may be) so a caller can show
// progress or cancel between iterations; the clock is injected, so the loop itself does no I/O.

import { distance } from "../math/vector.ts";
import { fitLine } from "../math/stats.ts";
import type { Problem } from "../problems/types.ts";
import { isNetworkProblem } from "../problems/network.ts";
import type { ModifiedEnkfSpec, OptimizerSpec, StopSpec } from "../spec/job.ts";
import { eki } from "./eki.ts";
import { gradientDescent } from "./gradientDescent.ts";
import { kernelAnswers } from "./kernelAnswers.ts";
import { currentObjective, modifiedEnkf, type Ask } from "./modifiedEnkf.ts";
import { recordIteration, type RunProgress, type StopDecision } from "./stopping.ts";
import { discrepancyLevel, discrepancyStop, emptySelection, evaluationDue, finalChoice, observeEvaluation, type SelectionState } from "./selection.ts";
import type { HistoryRow, Optimizer, RunResult, RunStatus } from "./types.ts";
import { referenceKernel } from "../kernels/reference.ts";
import { batchedKernel } from "../kernels/batched.ts";
import { denseMatrices } from "../models/model.ts";
import type { EnsembleKernel } from "../kernels/types.ts";

/** One method's iterations as the run loop sees them. */
export interface Driver {
  readonly theta: Float64Array;
  readonly objective: number;
  readonly evaluations: number;
  readonly progress: RunProgress;
  /** runs until new history rows exist (or the run has ended) and returns them */
  next(elapsed: () => number): Promise<HistoryRow[]>;
}

/**
 * The modified EnKF answered by one kernel, one question at a time. `speculate`: ask as the
 * workflow asks (whole ladders, speculative statistics; the same steps), so that `asks` counts the
 * rounds the workflow would take (enkf plan's pilot).
 */
export function enkfDriver(problem: Problem, spec: ModifiedEnkfSpec, stop: StopSpec, alpha: number, kernel: EnsembleKernel, theta0: Float64Array, speculate = false): Driver & { readonly asks: number } {
  if (kernel.k !== spec.ensembleSize) throw new Error(`kernel built for K = ${kernel.k}, optimizer wants ${spec.ensembleSize}`);
  const classification = isNetworkProblem(problem) && problem.kind === "classification";
  // the kernel holds Ω of its last statistics, which are the ones the step is solved from
  const machine = modifiedEnkf(spec, stop, {
    classification, speculate, direction: (_draw, s, out) => kernel.direction(s, out),
    matrices: isNetworkProblem(problem) ? denseMatrices(problem.model) : [],
  });
  const answer = kernelAnswers(problem, kernel, alpha, machine.draw);
  const first = machine.start(theta0);
  let state = first.state;
  let current: Ask | null = first.ask;
  let asks = 0;
  return {
    get asks() { return asks; },
    get theta() { return state.theta; },
    get objective() { return currentObjective(state); },
    get evaluations() { return state.evaluations; },
    get progress() { return state; },
    async next(elapsed) {
      const before = state.history.length;
      while (current && state.history.length === before) {
        ({ state, ask: current } = machine.tell(state, current, await answer(current), elapsed()));
        asks++;
      }
      return state.history.slice(before);
    },
  };
}

/** EKI and gradient descent: one step() per iteration. */
function stepDriver(opt: Optimizer, stop: StopSpec): Driver {
  const progress: RunProgress = { history: [], rejections: 0, startObjective: opt.objective, done: null };
  let k = 0;
  return {
    theta: opt.theta,
    get objective() { return opt.objective; },
    get evaluations() { return opt.evaluations; },
    progress,
    async next(elapsed) {
      const rec = await opt.step(k++);
      recordIteration(progress, stop, { iteration: k, ...rec, seconds: elapsed() });
      return progress.history.slice(-1);
    },
  };
}

/** Builds the optimizer a job names; the modified EnKF evaluates through `kernel` (default: reference). */
async function createDriver(problem: Problem, spec: OptimizerSpec, stop: StopSpec, alpha: number, theta0: Float64Array, kernel?: EnsembleKernel): Promise<Driver> {
  switch (spec.method) {
    case "modified-enkf": return enkfDriver(problem, spec, stop, alpha, kernel ?? (problem.forwardBatch ? batchedKernel(problem, spec.ensembleSize) : referenceKernel(problem, spec.ensembleSize)), theta0);
    case "enkf": return stepDriver(await eki(problem, spec, alpha, theta0), stop);
    case "gradient-descent": return stepDriver(gradientDescent(problem, spec, alpha, theta0), stop);
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
  /** the modified EnKF's ensemble kernel, built for this problem without the α term (default: reference) */
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
  const hasSolution = problem.solution !== undefined && alpha === 0;
  const d0 = hasSolution ? distance(start, problem.solution!) : 0;

  let driver: Driver;
  try {
    driver = await createDriver(problem, setup.optimizer, stop, alpha, start, setup.kernel);
  } catch (e) {
    return { status: "failed", message: errorMessage(e), iterations: 0, objective: NaN, evaluations: 0, seconds: now() - t0, theta: start, history: [], metrics: {} };
  }
  const { history } = driver.progress;
  // the evaluations on the full splits, timed (the report's "evaluation")
  let evaluationSeconds = 0;
  const evaluate = problem.evaluate && (async (theta: Float64Array) => {
    const t = now();
    try { return await problem.evaluate!(theta, setup.kernel?.predict); } finally { evaluationSeconds += now() - t; }
  });
  // the best θ by the validation metric, and the stops that look at the data (selection.ts)
  let selection: SelectionState = emptySelection();
  let bestTheta: Float64Array | null = null;
  const level = isNetworkProblem(problem) && problem.kind === "regression" ? discrepancyLevel(stop, problem.model.outputs) : null;
  let status: RunStatus = "max_iterations";
  let message = "";
  // a warm start is scored first, as iteration 0: the run keeps it unless it finds better
  if (evaluate && isNetworkProblem(problem) && problem.warmStart && stop.evaluateEvery !== undefined) {
    selection = observeEvaluation(selection, stop, 0, await evaluate(start)).selection;
    bestTheta = Float64Array.from(start);
  }
  for (;;) {
    if (opts.cancelled?.()) { status = "cancelled"; message = `cancelled after ${history.length} iterations`; break; }
    let rows: HistoryRow[];
    let dataStop: StopDecision | null = null;
    try {
      rows = await driver.next(() => now() - t0);
      for (const row of rows) {
        if (hasSolution) row.distance = d0 > 0 ? distance(driver.theta, problem.solution!) / d0 : 0;
        dataStop ??= discrepancyStop(level, row.objective);
        if (evaluate && evaluationDue(stop, row.iteration)) {
          row.evaluation = await evaluate(driver.theta);
          const seen = observeEvaluation(selection, stop, row.iteration, row.evaluation);
          selection = seen.selection;
          if (seen.improved) bestTheta = Float64Array.from(driver.theta);
          dataStop ??= seen.done;
        }
      }
    } catch (e) {
      status = "failed";
      message = `iteration ${history.length + 1} failed: ${errorMessage(e)}`;
      break;
    }
    for (const row of rows) yield row;
    const decision: StopDecision | null = driver.progress.done ?? dataStop;
    if (decision) { status = decision.status; message = decision.message; break; }
  }
  const theta = Float64Array.from(driver.theta);
  const metrics = alpha === 0 ? solutionMetrics(problem, theta, start, driver.objective, history) : {};
  if (evaluate && status !== "failed") Object.assign(metrics, await evaluate(theta));
  const base = { status, message, iterations: history.length, objective: driver.objective, evaluations: driver.evaluations, seconds: now() - t0, evaluationSeconds, history };
  const { best, lastIsResult } = evaluate && status !== "failed" ? finalChoice(selection, stop, history.length, metrics) : { best: selection.best, lastIsResult: !bestTheta };
  const named = (t: Float64Array) => (problem.parameters ? { parameters: problem.parameters(t) } : {});
  if (lastIsResult || !best || !bestTheta) return { ...base, theta, metrics, ...(best ? { best } : {}), ...named(theta) };
  return { ...base, theta: bestTheta, metrics: best.metrics, best, last: { theta, metrics }, ...named(bestTheta) };
}

/** Runs a job to completion. */
export async function optimizeAll(setup: RunSetup, opts: RunOptions = {}): Promise<RunResult> {
  const it = optimize(setup, opts);
  for (;;) {
    const r = await it.next();
    if (r.done) return r.value;
  }
}
