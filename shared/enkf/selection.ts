// Model selection on the validation split, and the stops that look at held-out data or at the
// data misfit. Pure: a driver evaluates θ on the full splits every stop.evaluateEvery iterations
// (optimize.ts in process, the workflow's reducer) and tells each evaluation here; this keeps the
// best iteration by the validation metric and decides early stopping (status early_stopped). The
// test split never enters a choice. The discrepancy principle (least-squares problems with a
// known noise level η, the classic stop of ensemble Kalman inversion) ends a run once the misfit
// Φ reaches τ·½·c·η², the misfit that noise of level η alone leaves (c targets per row).

import type { StopSpec } from "../spec/job.ts";
import type { StopDecision } from "./stopping.ts";

/** The best evaluation so far: its iteration and its metrics on the train, validation and test splits. */
export interface BestModel {
  iteration: number;
  metrics: Record<string, number>;
}

export interface SelectionState {
  best: BestModel | null;
  /** evaluations since the best one */
  stale: number;
}

export const emptySelection = (): SelectionState => ({ best: null, stale: 0 });

/** The metric that picks the best θ: early stopping's, else the validation loss. */
export function selectionMetric(stop: StopSpec): "validationLoss" | "validationAccuracy" {
  return stop.earlyStopping ? stop.earlyStopping.metric : "validationLoss";
}

/** Whether iteration `iteration` (1-based) is evaluated on the full splits. */
export function evaluationDue(stop: StopSpec, iteration: number): boolean {
  return stop.evaluateEvery !== undefined && iteration % stop.evaluateEvery === 0;
}

export interface Observation {
  selection: SelectionState;
  /** this evaluation is the new best: keep its θ */
  improved: boolean;
  /** early stopping ends the run here */
  done: StopDecision | null;
}

/**
 * Judges the evaluation of iteration `iteration`. Without a validation metric (no validation
 * split) nothing is selected. A non-finite metric (a diverged θ) never improves. An improvement
 * is a change of more than minDelta in the metric's direction (lower loss, higher accuracy).
 */
export function observeEvaluation(
  sel: SelectionState,
  stop: StopSpec,
  iteration: number,
  metrics: Record<string, number>,
): Observation {
  const key = selectionMetric(stop);
  if (!(key in metrics)) return { selection: sel, improved: false, done: null };
  const value = metrics[key];
  const es = stop.earlyStopping || null;
  const minDelta = es?.minDelta ?? 0;
  const prev = sel.best?.metrics[key];
  const improved =
    Number.isFinite(value) &&
    (prev === undefined || (key === "validationLoss" ? value < prev - minDelta : value > prev + minDelta));
  const selection: SelectionState = improved
    ? { best: { iteration, metrics: { ...metrics } }, stale: 0 }
    : { best: sel.best, stale: sel.stale + 1 };
  if (!es || improved || selection.stale < es.patience) return { selection, improved, done: null };
  const best = selection.best;
  const where = best ? `; the best, ${key} ${formatMetric(best.metrics[key])}, was at iteration ${best.iteration}` : "";
  return {
    selection,
    improved,
    done: { status: "early_stopped", message: `${key} has not improved for ${es.patience} evaluations${where}` },
  };
}

/**
 * The end of a run (both drivers): the last θ, iteration k with `lastMetrics`, is a candidate too
 * when its iteration was not evaluated during the run. Says whether the result is the last θ (no
 * best, or the last is the best) or the kept best one.
 */
export function finalChoice(
  sel: SelectionState,
  stop: StopSpec,
  k: number,
  lastMetrics: Record<string, number>,
): { best: BestModel | null; lastIsResult: boolean } {
  let selection = sel,
    improved = false;
  if (stop.evaluateEvery !== undefined && k > 0 && !evaluationDue(stop, k))
    ({ selection, improved } = observeEvaluation(sel, stop, k, lastMetrics));
  const best = selection.best;
  return { best, lastIsResult: !best || improved || best.iteration === k };
}

const formatMetric = (v: number | undefined) =>
  v === undefined ? "?" : Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toFixed(4) : v.toExponential(4);

/** The misfit a noise level η leaves in Φ = ½·mean over rows of ‖F − y‖² with c targets per row. */
export function discrepancyLevel(stop: StopSpec, targets: number): number | null {
  return stop.discrepancy ? stop.discrepancy.tau * 0.5 * targets * stop.discrepancy.noise ** 2 : null;
}

/** The discrepancy principle's verdict on an iteration's Φ (null: go on). */
export function discrepancyStop(level: number | null, objective: number): StopDecision | null {
  if (level === null || !(objective <= level)) return null;
  return {
    status: "converged",
    message:
      `the misfit ${objective.toExponential(4)} reached the noise level τ·½·c·η² = ` +
      `${level.toExponential(4)} (discrepancy principle)`,
  };
}
