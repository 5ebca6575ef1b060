// IDX image and label files (the MNIST family) → Dataset, straight from the bytes to float32: no
// float64 copy of the images. The training rows are shuffled with the seed (the validation split is
// the last rows of them, validation.ts); the test split is the test files in their order, or, without
// test files, the last `testFraction` of the shuffled rows. Pixels are scaled to [0, 1] (÷ 255), or
// standardized per pixel with training statistics; either way the dataset records the map from raw
// pixel values (mean, scale), so a model predicts from raw pixels. Pure: decoded arrays in.

import type { IdxArray } from "../formats/idx.ts";
import { DataError } from "./errors.ts";
import { sortClassNames, splitOrder, trainingStatistics } from "./split.ts";
import type { Dataset } from "./types.ts";

export interface IdxPair {
  images: IdxArray;
  labels: IdxArray;
  /** the files' names, for errors */
  files: { images: string; labels: string };
}

export interface IdxOptions {
  standardize: boolean;
  /** used only without a test pair */
  testFraction: number;
  seed: number;
}

function checkPair(p: IdxPair): { rows: number; features: number } {
  const [rows, h, w] = p.images.shape;
  if (p.labels.shape[0] !== rows)
    throw new DataError(`${p.files.labels}: ${p.labels.shape[0]} labels, but ${p.files.images} holds ${rows} images`);
  return { rows, features: h * w };
}

/**
 * The dataset of an IDX training pair and, optionally, a test pair.
 *
 * @example
 * ```ts
 * const ds = idxDataset(train, test, { standardize: false, testFraction: 0, seed: 0 });
 * ds.train.rows; // 60000 for Fashion-MNIST; ds.test.rows 10000
 * ```
 */
export function idxDataset(train: IdxPair, test: IdxPair | undefined, opts: IdxOptions): Dataset {
  const a = checkPair(train);
  const d = a.features;
  if (test) {
    checkPair(test);
    const [, h, w] = train.images.shape;
    if (test.images.shape[1] !== h || test.images.shape[2] !== w)
      throw new DataError(
        `${test.files.images}: images of ${test.images.shape.slice(1).join(" × ")}, but the training images ` +
          `are ${train.images.shape.slice(1).join(" × ")}`,
      );
  }
  const source = `${train.files.images} + ${train.files.labels}`;
  const split = splitOrder(a.rows, test ? { ...opts, testFraction: 0 } : opts, source);
  const nTrain = split.train;
  const nTest = test ? test.labels.shape[0] : split.test;
  // rows in dataset order: (pair, row) for the shuffled training rows, then the test rows
  const at = (i: number): [IdxPair, number] =>
    i < nTrain ? [train, split.order[i]] : test ? [test, i - nTrain] : [train, split.order[i]];

  const trainPixels = train.images.data;
  const { mean, scale } = opts.standardize
    ? trainingStatistics(
        (r, into) => {
          for (let j = 0; j < d; j++) into[j] = trainPixels[r * d + j];
        },
        d,
        split.order,
        nTrain,
        true,
      )
    : { mean: new Float64Array(d), scale: new Float64Array(d).fill(1 / 255) };

  const names = sortClassNames(Array.from(new Set(train.labels.data), String));
  if (names.length < 2) throw new DataError(`${train.files.labels}: the labels hold only one class (${names[0]})`);
  const index = new Map(names.map((c, i) => [Number(c), i]));
  const rows = nTrain + nTest;
  const x = new Float32Array(rows * d);
  const labels = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const [pair, r] = at(i);
    const px = pair.images.data;
    for (let j = 0; j < d; j++) x[i * d + j] = (px[r * d + j] - mean[j]) * scale[j];
    const label = index.get(pair.labels.data[r]);
    if (label === undefined)
      throw new DataError(
        `${pair.files.labels}: row ${r}: class ${pair.labels.data[r]} is not among the training labels ` +
          `(${names.join(", ")})`,
      );
    labels[i] = label;
  }
  return {
    kind: "classification",
    features: d,
    outputs: names.length,
    names,
    standardization: { mean: Array.from(mean), scale: Array.from(scale) },
    train: { x: x.subarray(0, nTrain * d), labels: labels.subarray(0, nTrain), rows: nTrain },
    test: { x: x.subarray(nTrain * d), labels: labels.subarray(nTrain), rows: nTest },
  };
}
