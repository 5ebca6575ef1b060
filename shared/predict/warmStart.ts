// A warm start: θ₀ taken from a trained model (its model.json and θ) instead of the seeded
// initialization, for a job whose network is the same one: the same sized model (layers, widths,
// activation), the same feature columns in the same order, the same outputs. Anything else is
// refused with a message saying what differs. Where the trained model comes from (a finished
// job, a model's champion, --init-from) is resolved once here for enkf run and the service alike;
// each passes its own source of jobs and models.

import type { NetworkModel } from "../models/model.ts";
import type { DataMeta, ModelCard } from "./modelCard.ts";
import { modelCard } from "./modelCard.ts";

export class WarmStartError extends Error {
  override name = "WarmStartError";
  /** the job field (or flag) that named the trained model */
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

const show = (v: unknown) => JSON.stringify(v);

/** The differences between the job's network and the trained one, one phrase each (empty: they match). */
export function networkDifferences(card: ModelCard, model: NetworkModel, data: DataMeta): string[] {
  const mine = modelCard(model, data, 0, {});
  const out: string[] = [];
  if (card.kind !== mine.kind) out.push(`kind: ${mine.kind} here, ${card.kind} there`);
  const a = mine.model as Record<string, unknown>,
    b = card.model as Record<string, unknown>;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (show(a[key]) !== show(b[key])) out.push(`model.${key}: ${show(a[key])} here, ${show(b[key])} there`);
  }
  if (show(mine.features) !== show(card.features)) {
    const missing = card.features.filter((f) => !mine.features.includes(f)),
      extra = mine.features.filter((f) => !card.features.includes(f));
    const sides = [
      ...(extra.length ? [`${extra.map(show).join(", ")} only here`] : []),
      ...(missing.length ? [`${missing.map(show).join(", ")} only there`] : []),
    ];
    out.push(
      sides.length ? `feature columns: ${sides.join("; ")}` : "feature columns: the same names in another order",
    );
  }
  if (show(mine.outputs) !== show(card.outputs))
    out.push(`outputs: ${show(mine.outputs)} here, ${show(card.outputs)} there`);
  return out;
}

/** θ₀ for the job's network from a trained model, or a WarmStartError naming what differs. */
export function warmStartTheta(
  card: ModelCard,
  theta: Float64Array,
  model: NetworkModel,
  data: DataMeta,
  where: string,
): Float64Array {
  const diff = networkDifferences(card, model, data);
  if (diff.length)
    throw new WarmStartError(
      `cannot warm-start from ${where}: its network differs from this job's (${diff.join("; ")})`,
    );
  if (theta.length !== card.theta.parameters)
    throw new WarmStartError(
      `cannot warm-start from ${where}: θ has ${theta.length} parameters, its model.json says ${card.theta.parameters}`,
    );
  return Float64Array.from(theta);
}

/** Where a warm start's trained model comes from: enkf serve's store, or the service's own. */
export interface ModelSource {
  /** the champion job of model `name`; throws, naming `field`, where there is none */
  champion(name: string, field: string): Promise<{ job: string; version: number }>;
  /** finished job `job`'s model.json and θ, and how to name it in messages (default: "job <id>") */
  trained(job: string, field: string): Promise<{ card: ModelCard; theta: Float64Array; where?: string }>;
}

/** What a warm start was taken from (the job record's warmStart). */
export interface WarmStartFrom {
  job: string;
  model?: string;
  version?: number;
}

/** A network problem's problem.initial: a finished job's model, or a model's champion. */
export type InitialSpec = { fromJob: string } | { fromModel: string };

/**
 * θ₀ of a warm start, checked against the job's network, or undefined for a fresh start;
 * `override` (enkf run --init-from) names a job in place of problem.initial.
 *
 * @example
 * ```ts
 * const warm = await resolveWarmStart(job.problem.initial, undefined, { model, data: dataset }, source);
 * if (warm) theta0 = warm.theta; // warm.from: { job } or { model, version, job }
 * ```
 */
export async function resolveWarmStart(
  initial: InitialSpec | undefined,
  override: string | undefined,
  network: { model: NetworkModel; data: DataMeta },
  source: ModelSource,
): Promise<{ theta: Float64Array; from: WarmStartFrom } | undefined> {
  if (override === undefined && initial === undefined) return undefined;
  const field =
    override !== undefined
      ? "--init-from"
      : initial && "fromJob" in initial
        ? "problem.initial.fromJob"
        : "problem.initial.fromModel";
  const from: WarmStartFrom =
    override !== undefined
      ? { job: override }
      : "fromJob" in initial!
        ? { job: initial.fromJob }
        : { model: initial!.fromModel, ...(await source.champion(initial!.fromModel, field)) };
  const trained = await source.trained(from.job, field);
  const where =
    trained.where ??
    (from.model !== undefined ? `model "${from.model}" (version ${from.version}, job ${from.job})` : `job ${from.job}`);
  try {
    return { theta: warmStartTheta(trained.card, trained.theta, network.model, network.data, where), from };
  } catch (e) {
    if (e instanceof WarmStartError) throw new WarmStartError(e.message, field);
    throw e;
  }
}
