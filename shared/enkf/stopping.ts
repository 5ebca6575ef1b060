// The stopping rule, checked after every iteration, in this order: target objective or Φ = 0
// (converged), relative decrease over a window below tolerance (converged), too many
// consecutive rejected steps (stagnated), iteration budget (max_iterations), wall clock (time_limit).
// recordIteration is the one place an iteration's row joins the history and the rule is applied:
// every process (process.ts) goes through it, whoever runs it.

import type { StopSpec } from "../spec/job.ts";
import type { HistoryRow, RunStatus } from "./types.ts";

export interface StopDecision {
  status: RunStatus;
  message: string;
}

export function checkStop(
  stop: StopSpec,
  history: readonly HistoryRow[],
  consecutiveRejections: number,
  elapsedSeconds: number,
  startObjective: number,
): StopDecision | null {
  const k = history.length;
  if (k === 0) return null;
  const phi = history[k - 1].objective;
  if (stop.targetObjective !== undefined && phi <= stop.targetObjective) {
    return {
      status: "converged",
      message: `objective ${phi.toExponential(4)} reached the target ${stop.targetObjective}`,
    };
  }
  if (phi === 0) return { status: "converged", message: "objective is exactly 0" };
  if (stop.tolerance > 0 && k >= stop.window) {
    const before = k - stop.window - 1 >= 0 ? history[k - stop.window - 1].objective : startObjective;
    const rel = (before - phi) / Math.max(Math.abs(before), Number.MIN_VALUE);
    if (rel < stop.tolerance) {
      return {
        status: "converged",
        message:
          `relative decrease ${rel.toExponential(2)} over the last ${stop.window} iterations is ` +
          `below the tolerance ${stop.tolerance}`,
      };
    }
  }
  if (consecutiveRejections >= stop.maxRejections) {
    return { status: "stagnated", message: `no step accepted in the last ${consecutiveRejections} iterations` };
  }
  if (k >= stop.maxIterations)
    return { status: "max_iterations", message: `reached the iteration limit (${stop.maxIterations})` };
  if (stop.timeLimit !== undefined && elapsedSeconds >= stop.timeLimit) {
    return { status: "time_limit", message: `reached the time limit (${stop.timeLimit} s) after ${k} iterations` };
  }
  return null;
}

/** A run's history and where the stopping rule stands. */
export interface RunProgress {
  readonly history: readonly HistoryRow[];
  /** consecutive rejected iterations */
  readonly rejections: number;
  /** Φ at the start point (the tolerance window's first baseline) */
  readonly startObjective: number;
  /** why the run ended, once it has */
  readonly done: StopDecision | null;
}

/** The progress with an iteration's row appended and the stopping rule applied (done says when it ends the run). */
export function recordIteration(progress: RunProgress, stop: StopSpec, row: HistoryRow): RunProgress {
  const rejections = row.accepted ? 0 : progress.rejections + 1;
  const history = [...progress.history, row];
  return {
    history,
    rejections,
    startObjective: progress.startObjective,
    done: checkStop(stop, history, rejections, row.seconds, progress.startObjective),
  };
}
