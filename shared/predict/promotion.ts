// Promotion of a model's challenger (pure): both models measured on the same rows, the
// challenger's validation split, and the rule that decides. The rows of a prepared dataset are
// standardized with its own version's statistics; each model sees them in raw units through its
// own model.json standardization, as predict does, so a champion trained on an older dataset
// version is measured fairly.

import type { Dataset, Split } from "../data/types.ts";
import type { NetworkModel } from "../models/model.ts";
import { networkProblem } from "../problems/network.ts";
import type { ModelCard } from "./modelCard.ts";

export interface Rule {
  metric: "validationLoss" | "validationAccuracy";
  minImprovement: number;
}

/** The split's rows as the card's model takes them: back to raw units, then the card's standardization. */
function rowsForCard(card: ModelCard, data: Pick<Dataset, "features" | "standardization">, split: Split): Float32Array {
  const d = data.features,
    x = new Float32Array(split.x.length);
  const from = data.standardization,
    to = card.standardization;
  for (let i = 0; i < split.rows; i++) {
    for (let j = 0; j < d; j++) {
      const raw = from ? split.x[i * d + j] / from.scale[j] + from.mean[j] : split.x[i * d + j];
      x[i * d + j] = to ? (raw - to.mean[j]) * to.scale[j] : raw;
    }
  }
  return x;
}

/**
 * The model's validationLoss (and validationAccuracy) on the dataset's validation split, with the
 * job's loss: the same numbers a run reports for its own θ. null when the split is empty.
 */
export async function validationMetrics(
  card: ModelCard,
  theta: Float64Array,
  dataset: Dataset,
  loss: "cross-entropy" | "least-squares",
): Promise<Record<string, number> | null> {
  const split = dataset.validation;
  if (!split || split.rows === 0) return null;
  const rows: Split = { ...split, x: rowsForCard(card, dataset, split) };
  const empty: Split = {
    rows: 0,
    x: new Float32Array(0),
    ...(split.labels ? { labels: new Int32Array(0) } : { targets: new Float32Array(0) }),
  };
  const problem = networkProblem({
    model: card.model as NetworkModel,
    dataset: { ...dataset, train: rows, validation: undefined, test: empty },
    loss,
    batchSeed: 0,
    initSeed: 0,
  });
  // evaluate() names the one non-empty split "train"
  const m = await problem.evaluate!(theta);
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k.replace(/^train/, "validation"), v]));
}

/** Whether the challenger replaces the champion (null: there is none yet), and why, in words. */
export function promotionDecision(
  rule: Rule,
  challenger: number | undefined,
  champion: number | undefined | null,
): { promote: boolean; reason: string } {
  const { metric, minImprovement: m } = rule;
  const show = (v: number) => (metric === "validationAccuracy" ? v.toFixed(4) : v.toPrecision(5));
  if (champion === null) return { promote: true, reason: "the model's first version" };
  if (challenger === undefined || !Number.isFinite(challenger))
    return { promote: false, reason: `the challenger has no ${metric}` };
  if (champion === undefined || !Number.isFinite(champion))
    return { promote: true, reason: `the champion has no ${metric} on these rows` };
  const lower = metric === "validationLoss";
  const promote = lower ? challenger <= champion - m : challenger >= champion + m;
  const needs = m > 0 ? ` by at least ${m}` : "";
  return {
    promote,
    reason: promote
      ? `${metric} ${show(challenger)} ${lower ? "≤" : "≥"} the champion's ` +
        `${show(champion)}${needs ? ` ${lower ? "−" : "+"} ${m}` : ""}`
      : `${metric} ${show(challenger)} is not ${lower ? "below" : "above"} the champion's ${show(champion)}${needs}`,
  };
}
