// A warm start: θ₀ taken from a trained model (its model.json and θ) instead of the seeded
// initialization, for a job whose network is the same one: the same sized model (layers, widths,
// activation), the same feature columns in the same order, the same outputs. Anything else is
// refused with a message saying what differs. Pure.

import type { NetworkModel } from "../models/model.ts";
import type { DataMeta, ModelCard } from "./modelCard.ts";
import { modelCard } from "./modelCard.ts";

export class WarmStartError extends Error {
  override name = "WarmStartError";
}

const show = (v: unknown) => JSON.stringify(v);

/** The differences between the job's network and the trained one, one phrase each (empty: they match). */
export function networkDifferences(card: ModelCard, model: NetworkModel, data: DataMeta): string[] {
  const mine = modelCard(model, data, 0, {});
  const out: string[] = [];
  if (card.kind !== mine.kind) out.push(`kind: ${mine.kind} here, ${card.kind} there`);
  const a = mine.model as Record<string, unknown>, b = card.model as Record<string, unknown>;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (show(a[key]) !== show(b[key])) out.push(`model.${key}: ${show(a[key])} here, ${show(b[key])} there`);
  }
  if (show(mine.features) !== show(card.features)) {
    const missing = card.features.filter((f) => !mine.features.includes(f)), extra = mine.features.filter((f) => !card.features.includes(f));
    out.push(missing.length || extra.length
      ? `feature columns: ${[...(extra.length ? [`${extra.map(show).join(", ")} only here`] : []), ...(missing.length ? [`${missing.map(show).join(", ")} only there`] : [])].join("; ")}`
      : "feature columns: the same names in another order");
  }
  if (show(mine.outputs) !== show(card.outputs)) out.push(`outputs: ${show(mine.outputs)} here, ${show(card.outputs)} there`);
  return out;
}

/** θ₀ for the job's network from a trained model, or a WarmStartError naming what differs. */
export function warmStartTheta(card: ModelCard, theta: Float64Array, model: NetworkModel, data: DataMeta, where: string): Float64Array {
  const diff = networkDifferences(card, model, data);
  if (diff.length) throw new WarmStartError(`cannot warm-start from ${where}: its network differs from this job's (${diff.join("; ")})`);
  if (theta.length !== card.theta.parameters) throw new WarmStartError(`cannot warm-start from ${where}: θ has ${theta.length} parameters, its model.json says ${card.theta.parameters}`);
  return Float64Array.from(theta);
}
