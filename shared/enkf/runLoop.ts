// The run loop: what happens around a process (process.ts) whoever evaluates its asks. One
// implementation for the in-process run (runLoop, below, with one evaluator) and the workflow's
// reducer (startRun at Init, advanceRun per round, finishRun at Finalize): it annotates the
// history, evaluates θ on the full splits every stop.evaluateEvery iterations, keeps the best θ
// by the validation metric, applies the stops that look at the data (early stopping, the
// discrepancy principle; selection.ts), and makes the final choice of θ. Its state (the process's,
// the selection, the timings) is plain data the reducer stores between rounds.

import type { StopSpec } from "../spec/job.ts";
import type { PosteriorEstimate, Process, ProcessState } from "./process.ts";
import { currentObjective } from "./process.ts";
import {
  discrepancyStop,
  emptySelection,
  evaluationDue,
  finalChoice,
  observeEvaluation,
  type SelectionState,
} from "./selection.ts";
import type { StopDecision } from "./stopping.ts";
import type { HistoryRow, RunResult, RunStatus } from "./types.ts";

/** The run's state between asks: the process's state and what the loop keeps. */
export interface RunState<S> {
  process: S;
  selection: SelectionState;
  /** seconds per phase, summed over the run (the workflow's workers and reducer) */
  timings?: Record<string, number>;
}

/** What the loop needs from whoever runs it. */
export interface RunContext {
  stop: StopSpec;
  /** θ's metrics on the full splits (network problems; absent: no evaluations) */
  evaluate?(theta: Float64Array): Promise<Record<string, number>>;
  /** keeps a new best θ (in memory, or in the job's store) and gives it back at the end */
  keepBest(theta: Float64Array): Promise<void>;
  best(): Promise<Float64Array>;
  /** θ₀ is a trained model's (a warm start): scored as iteration 0, kept unless the run finds better */
  warmStart?: boolean;
  /** the discrepancy principle's level of Φ (least-squares problems with a noise level) */
  level?: number | null;
  /** a new row's annotations at its θ (the distance to a known minimiser) */
  annotate?(row: HistoryRow, theta: Float64Array): void;
  /** metrics of the final θ besides the evaluation's (a known minimiser's distance and rate) */
  finalMetrics?(theta: Float64Array, objective: number, history: readonly HistoryRow[]): Record<string, number>;
  /** an inverse problem's named parameters at θ */
  parameters?(theta: Float64Array): Record<string, number>;
  /** a posterior's estimate (the Laplace posterior, the sampler's particles) in the parameters' units,
   *  and a sampler's particles in them (samples.npy) */
  summarizePosterior?(estimate: PosteriorEstimate): Pick<RunResult, "posterior" | "samples">;
}

/** The run's start: the process's initial state, and a warm start scored as iteration 0. */
export async function startRun<S extends ProcessState>(
  process: Process<S, unknown, unknown>,
  theta0: Float64Array,
  ctx: RunContext,
): Promise<RunState<S>> {
  const state = process.init(theta0);
  let selection = emptySelection();
  if (ctx.warmStart && ctx.evaluate && ctx.stop.evaluateEvery !== undefined) {
    selection = observeEvaluation(selection, ctx.stop, 0, await ctx.evaluate(theta0)).selection;
    await ctx.keepBest(theta0);
  }
  return { process: state, selection };
}

/** Tells the process an answer; the rows it finished are annotated, evaluated and judged. */
export async function advanceRun<S extends ProcessState, R>(
  process: Process<S, unknown, R>,
  run: RunState<S>,
  answer: R,
  elapsedSeconds: number,
  ctx: RunContext,
): Promise<{ run: RunState<S>; rows: HistoryRow[] }> {
  const told = process.tell(run.process, answer, elapsedSeconds);
  let { state } = told;
  if (told.records.length === 0) return { run: { ...run, process: state }, rows: [] };
  let selection = run.selection;
  let decision: StopDecision | null = null;
  const rows = told.records.map((r) => ({ ...r }));
  // every row of one tell ends at the state's θ (rows after the first are steps that did not move)
  for (const row of rows) {
    ctx.annotate?.(row, state.theta);
    decision ??= discrepancyStop(ctx.level ?? null, row.objective);
    if (!ctx.evaluate || !evaluationDue(ctx.stop, row.iteration)) continue;
    row.evaluation = await ctx.evaluate(state.theta);
    const seen = observeEvaluation(selection, ctx.stop, row.iteration, row.evaluation);
    selection = seen.selection;
    if (seen.improved) await ctx.keepBest(state.theta);
    decision ??= seen.done;
  }
  const history = [...state.progress.history.slice(0, -rows.length), ...rows];
  state = { ...state, progress: { ...state.progress, history, done: state.progress.done ?? decision } };
  return { run: { ...run, process: state, selection }, rows };
}

/** The end of the run: metrics of the last θ, the final choice between it and the best, the result. */
export async function finishRun<S extends ProcessState>(
  run: RunState<S>,
  ctx: RunContext,
  seconds: number,
  end?: { status: RunStatus; message: string },
): Promise<RunResult> {
  const { theta, progress, evaluations } = run.process;
  const status = end?.status ?? progress.done?.status ?? "failed";
  const message = end?.message ?? progress.done?.message ?? "the run ended before the stopping rule";
  const { history } = progress;
  const objective = currentObjective(run.process);
  const metrics = ctx.finalMetrics?.(theta, objective, history) ?? {};
  const evaluated = ctx.evaluate !== undefined && status !== "failed";
  if (evaluated) Object.assign(metrics, await ctx.evaluate!(theta));
  const { posterior } = run.process;
  const base = { status, message, iterations: history.length, objective, evaluations, seconds, history: [...history] };
  const choice = evaluated
    ? finalChoice(run.selection, ctx.stop, history.length, metrics)
    : { best: run.selection.best, lastIsResult: !run.selection.best };
  const named = (t: Float64Array) => (ctx.parameters ? { parameters: ctx.parameters(t) } : {});
  const { best } = choice;
  // the posterior is around the last θ, which is the result here (an inverse problem's always is)
  const around = posterior && ctx.summarizePosterior ? ctx.summarizePosterior(posterior) : {};
  if (choice.lastIsResult || !best)
    return { ...base, theta, metrics, ...(best ? { best } : {}), ...named(theta), ...around };
  const kept = await ctx.best();
  return { ...base, theta: kept, metrics: best.metrics, best, last: { theta, metrics }, ...named(kept) };
}

/** How the in-process loop is driven. */
export interface LoopOptions {
  /** seconds, monotonic (default: performance.now()/1000) */
  now?: () => number;
  /** polled between asks; true ends the run with status "cancelled" */
  cancelled?: () => boolean;
}

/**
 * Runs a process in this process: each ask answered by `answer`; yields each history row as the
 * run produces it and returns the result. An error in an answer or a tell fails the run (status
 * "failed"), keeping what it reached.
 *
 * @example
 * ```ts
 * const run = runLoop(modifiedEnkf(spec, stop), kernelAnswers(problem, kernel, 0), inMemory(stop), theta0);
 * for await (const row of run) console.log(row.iteration, row.objective);
 * ```
 */
export async function* runLoop<S extends ProcessState, A, R>(
  process: Process<S, A, R>,
  answer: (ask: A) => Promise<R>,
  ctx: RunContext,
  theta0: Float64Array,
  opts: LoopOptions = {},
): AsyncGenerator<HistoryRow, RunResult, void> {
  const now = opts.now ?? (() => performance.now() / 1000);
  const t0 = now();
  let run = await startRun(process, theta0, ctx);
  let end: { status: RunStatus; message: string } | undefined;
  for (let ask = process.ask(run.process); ask; ask = process.ask(run.process)) {
    if (opts.cancelled?.()) {
      end = { status: "cancelled", message: `cancelled after ${run.process.progress.history.length} iterations` };
      break;
    }
    let rows: HistoryRow[];
    try {
      ({ run, rows } = await advanceRun(process, run, await answer(ask), now() - t0, ctx));
    } catch (e) {
      end = {
        status: "failed",
        message:
          `iteration ${run.process.progress.history.length + 1} failed: ` +
          `${e instanceof Error ? e.message : String(e)}`,
      };
      break;
    }
    for (const row of rows) yield row;
  }
  return finishRun(run, ctx, now() - t0, end);
}

/** A context that keeps the best θ in memory (the in-process run's). */
export function inMemory(stop: StopSpec, extra: Omit<RunContext, "stop" | "keepBest" | "best"> = {}): RunContext {
  let kept: Float64Array | null = null;
  return {
    stop,
    ...extra,
    keepBest: async (theta) => {
      kept = Float64Array.from(theta);
    },
    best: async () => {
      if (!kept) throw new Error("no best θ was kept");
      return kept;
    },
  };
}
