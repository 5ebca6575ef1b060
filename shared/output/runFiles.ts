// A finished run's files, written the same way wherever it ran (enkf run's directory, a job's
// store): theta.npy (the result's θ), theta-last.npy (the last θ when a validation split chose an
// earlier one), samples.npy (a sampler's particles in the parameters' units), model.json (a
// network's card: what predicting needs), history.csv, and result.json last, so that its presence
// marks a complete run.

import type { RunResult } from "../enkf/types.ts";
import { encodeNpyFloat64 } from "../formats/npy.ts";
import type { NetworkModel } from "../models/model.ts";
import { modelCard } from "../predict/modelCard.ts";
import { historyCsv, resultDocument, toJson } from "./history.ts";

/** Writes one file: its name, bytes and media type. */
export type PutFile = (name: string, bytes: Uint8Array, type: string) => Promise<void>;

export interface RunFileContext {
  name: string;
  spec: unknown;
  /** a network's model and its data's description (columns, classes, scaling), for model.json */
  network?: { model: NetworkModel; data: Parameters<typeof modelCard>[1] };
  /** result.json's environment, read once the other files are written (it may time them) */
  environment(): Record<string, unknown>;
  /** a crash point after the θ files (tests of the workflow's retries) */
  afterTheta?(): void;
}

const text = (s: string) => new TextEncoder().encode(s);

/**
 * Writes the run's files through `put`; returns the names result.json lists.
 *
 * @example
 * ```ts
 * await writeRunFiles(result, { name: job.name, spec: job, environment: () => ({ node: process.version }) },
 *   (name, bytes) => writeFile(join(outDir, name), bytes));
 * ```
 */
export async function writeRunFiles(
  result: RunResult,
  ctx: RunFileContext,
  put: PutFile,
): Promise<Record<string, string>> {
  const files: Record<string, string> = {
    theta: "theta.npy",
    ...(result.last ? { thetaLast: "theta-last.npy" } : {}),
    ...(ctx.network ? { model: "model.json" } : {}),
    ...(result.samples ? { samples: "samples.npy" } : {}),
    history: "history.csv",
    spec: "spec.json",
  };
  await put(files.theta, encodeNpyFloat64(result.theta), "application/octet-stream");
  if (ctx.network) {
    const card = modelCard(
      ctx.network.model,
      ctx.network.data,
      result.best?.iteration ?? result.iterations,
      result.metrics,
    );
    await put(files.model, text(toJson(card)), "application/json");
  }
  if (result.last) await put(files.thetaLast, encodeNpyFloat64(result.last.theta), "application/octet-stream");
  if (result.samples) {
    const { data, count, names } = result.samples;
    await put(files.samples, encodeNpyFloat64(data, [count, names.length]), "application/octet-stream");
  }
  ctx.afterTheta?.();
  await put(files.history, text(historyCsv(result.history)), "text/csv");
  const doc = resultDocument(result, { name: ctx.name, spec: ctx.spec, environment: ctx.environment(), files });
  await put("result.json", text(toJson(doc)), "application/json");
  return files;
}
