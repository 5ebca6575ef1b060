// model.json: everything needed to apply a trained network to raw rows, next to theta.npy (the
// best θ): the sized model, the raw feature columns in order, the standardization the training
// rows set (x_std = (x − mean)·scale), and the class names (classification) or the target names
// (regression). Written by enkf run and by the workflow's finalize; read by enkf predict, enkf
// export and POST /jobs/{id}/predict. zod is the single source of its type.

import { z } from "zod";
import type { DatasetManifest } from "../data/manifest.ts";
import type { Dataset } from "../data/types.ts";
import { modelInputs, parameterCount, type NetworkModel } from "../models/model.ts";
import { DataError } from "../data/errors.ts";

const activation = z.enum(["tanh", "relu", "sigmoid", "gelu"]);

export const ModelCard = z.strictObject({
  format: z.literal("enkf-model"),
  version: z.literal(1),
  kind: z.enum(["classification", "regression"]),
  model: z.discriminatedUnion("type", [
    z.strictObject({
      type: z.literal("mlp"),
      inputs: z.int().min(1),
      hidden: z.array(z.int().min(1)),
      outputs: z.int().min(1),
      activation,
    }),
    z.strictObject({
      type: z.literal("cnn"),
      input: z.tuple([z.int().min(1), z.int().min(1), z.int().min(1)]),
      channels: z.array(z.int().min(1)),
      kernel: z.int().min(1),
      pool: z.int().min(1),
      outputs: z.int().min(1),
      activation,
    }),
  ]),
  /** θ's file beside this one, and its length */
  theta: z.strictObject({ file: z.string(), parameters: z.int().min(1) }),
  /** the raw rows' columns: the features in the model's input order, and the label column (ignored when present) */
  features: z.array(z.string()).min(1),
  label: z.string().optional(),
  standardization: z.strictObject({ mean: z.array(z.number()), scale: z.array(z.number()) }).nullable(),
  /** class names in output order (classification), or target names (regression) */
  outputs: z.array(z.string()).min(1),
  /** the iteration θ comes from and its metrics (the best by the validation split, or the last) */
  iteration: z.int().min(0),
  metrics: z.record(z.string(), z.number()),
});

export type ModelCard = z.infer<typeof ModelCard>;

/** The dataset's metadata as the card needs it (a Dataset in process, the manifest in the workflow). */
export type DataMeta =
  | Pick<Dataset, "kind" | "features" | "names" | "columns" | "standardization">
  | Pick<DatasetManifest, "kind" | "features" | "names" | "columns" | "standardization">;

export function modelCard(
  model: NetworkModel,
  data: DataMeta,
  iteration: number,
  metrics: Record<string, number>,
  thetaFile = "theta.npy",
): ModelCard {
  const features = data.columns?.features ?? Array.from({ length: data.features }, (_, i) => `x${i}`);
  return {
    format: "enkf-model",
    version: 1,
    kind: data.kind,
    model:
      model.type === "mlp"
        ? {
            type: "mlp",
            inputs: model.inputs,
            hidden: [...model.hidden],
            outputs: model.outputs,
            activation: model.activation,
          }
        : {
            type: "cnn",
            input: [...model.input],
            channels: [...model.channels],
            kernel: model.kernel,
            pool: model.pool,
            outputs: model.outputs,
            activation: model.activation,
          },
    theta: { file: thetaFile, parameters: parameterCount(model) },
    features,
    ...(data.columns?.label !== undefined ? { label: data.columns.label } : {}),
    standardization: data.standardization ?? null,
    outputs: data.names,
    iteration,
    metrics: Object.fromEntries(Object.entries(metrics).filter(([, v]) => Number.isFinite(v))),
  };
}

/** Parses model.json text; errors name the field. */
export function parseModelCard(text: string, where: string): ModelCard {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new DataError(`${where}: malformed JSON (${(e as Error).message})`);
  }
  const r = ModelCard.safeParse(value);
  if (!r.success)
    throw new DataError(
      `${where}: not an enkf model card: ` +
        `${r.error.issues.map((i) => `${i.path.join(".") || "(document)"}: ${i.message}`).join("; ")}`,
    );
  const card = r.data;
  if (modelInputs(card.model as NetworkModel) !== card.features.length)
    throw new DataError(
      `${where}: the model takes ${modelInputs(card.model as NetworkModel)} inputs, but ` +
        `${card.features.length} feature columns are listed`,
    );
  return card;
}
