// .npy pairs → Dataset: features of shape (N, …) (trailing axes are flattened), labels of shape (N,)
// holding classes (classification) or targets of shape (N,) or (N, T) (regression); optionally a test
// pair, the fixed test split. The features are read where they lie (a float32 file stays float32 until
// the one float32 copy the dataset keeps). Pure: decoded arrays in, Dataset out; errors name the file
// and the offending row.

import type { NpyArray } from "../formats/npy.ts";
import { DataError } from "./errors.ts";
import { checkClassCount, sortClassNames, splitTable, type SplitOptions, type Table } from "./split.ts";
import type { Dataset } from "./types.ts";

export interface NpyPair {
  features: NpyArray;
  labels: NpyArray;
  files: { features: string; labels: string };
}

/** The array as numbers: a view, except for 64-bit integers (converted, as JavaScript numbers). */
const numbers = (a: NpyArray): ArrayLike<number> =>
  a.data instanceof BigInt64Array || a.data instanceof BigUint64Array
    ? Float64Array.from(a.data, Number)
    : (a.data as ArrayLike<number>);

function pairTable(p: NpyPair, kind: "classification" | "regression", test: boolean): Table {
  const { features, labels, files } = p;
  if (features.shape.length < 2)
    throw new DataError(
      `${files.features}: features must have shape (rows, features…), got (${features.shape.join(", ")})`,
    );
  const rows = features.shape[0];
  const d = features.shape.slice(1).reduce((a, b) => a * b, 1);
  if (labels.shape[0] !== rows)
    throw new DataError(`${files.labels}: has ${labels.shape[0]} rows but ${files.features} has ${rows}`);
  const raw = numbers(features);
  for (let i = 0; i < raw.length; i++) {
    if (!Number.isFinite(raw[i]))
      throw new DataError(
        `${files.features}: row ${Math.floor(i / d)}, feature ${i % d}: ${raw[i]} is not a finite number`,
      );
  }
  const values = numbers(labels);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]))
      throw new DataError(
        `${files.labels}: row ${Math.floor(i / (values.length / rows))}: ${values[i]} is not a finite number`,
      );
  }
  if (kind === "classification") {
    if (labels.shape.length !== 1)
      throw new DataError(`${files.labels}: class labels must have shape (rows,), got (${labels.shape.join(", ")})`);
    const text = Array.from(values, String);
    const names = sortClassNames(text);
    // a test file may hold fewer classes than the training file
    if (!test) checkClassCount(names.length, rows, files.labels, "labels");
    const lookup = new Map(names.map((c, i) => [c, i]));
    return { raw, rows, features: d, labels: { index: Int32Array.from(text, (t) => lookup.get(t)!), names } };
  }
  if (labels.shape.length > 2)
    throw new DataError(
      `${files.labels}: targets must have shape (rows,) or (rows, targets), got (${labels.shape.join(", ")})`,
    );
  const k = labels.shape.length === 2 ? labels.shape[1] : 1;
  return { raw, rows, features: d, targets: { values, names: Array.from({ length: k }, (_, i) => `target${i}`) } };
}

/**
 * The dataset of a training pair and, optionally, a test pair (the fixed test split).
 *
 * @example
 * ```ts
 * const ds = npyDataset(train, test, "classification", { standardize: true, testFraction: 0.2, seed: 0 });
 * ```
 */
export function npyDataset(
  train: NpyPair,
  test: NpyPair | undefined,
  kind: "classification" | "regression",
  opts: SplitOptions,
): Dataset {
  const source = (p: NpyPair) => `${p.files.features} + ${p.files.labels}`;
  return splitTable(
    pairTable(train, kind, false),
    opts,
    source(train),
    test ? { table: pairTable(test, kind, true), source: source(test) } : undefined,
  );
}
