// .npy pair → Dataset: features of shape (N, …) (trailing axes are flattened), labels of shape (N,)
// holding classes (classification) or targets of shape (N,) or (N, T) (regression). Pure: decoded
// arrays in, Dataset out; errors name the file and the offending row.

import type { NpyArray } from "../formats/npy.ts";
import { DataError } from "./errors.ts";
import { checkClassCount, sortClassNames, splitTable, type SplitOptions } from "./split.ts";
import type { Dataset } from "./types.ts";

export function npyDataset(
  features: NpyArray,
  labels: NpyArray,
  files: { features: string; labels: string },
  kind: "classification" | "regression",
  opts: SplitOptions,
): Dataset {
  if (features.shape.length < 2)
    throw new DataError(
      `${files.features}: features must have shape (rows, features…), got (${features.shape.join(", ")})`,
    );
  const rows = features.shape[0];
  const d = features.shape.slice(1).reduce((a, b) => a * b, 1);
  if (labels.shape[0] !== rows)
    throw new DataError(`${files.labels}: has ${labels.shape[0]} rows but ${files.features} has ${rows}`);
  const raw = Float64Array.from(features.data as ArrayLike<number | bigint>, Number);
  for (let i = 0; i < raw.length; i++) {
    if (!Number.isFinite(raw[i]))
      throw new DataError(
        `${files.features}: row ${Math.floor(i / d)}, feature ${i % d}: ${raw[i]} is not a finite number`,
      );
  }
  const values = Float64Array.from(labels.data as ArrayLike<number | bigint>, Number);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]))
      throw new DataError(
        `${files.labels}: row ${Math.floor(i / (values.length / rows))}: ${values[i]} is not a finite number`,
      );
  }
  const source = `${files.features} + ${files.labels}`;
  if (kind === "classification") {
    if (labels.shape.length !== 1)
      throw new DataError(`${files.labels}: class labels must have shape (rows,), got (${labels.shape.join(", ")})`);
    const text = Array.from(values, String);
    const names = sortClassNames(text);
    checkClassCount(names.length, rows, files.labels, "labels");
    const lookup = new Map(names.map((c, i) => [c, i]));
    return splitTable(
      { raw, rows, features: d, labels: { index: Int32Array.from(text, (t) => lookup.get(t)!), names } },
      opts,
      source,
    );
  }
  if (labels.shape.length > 2)
    throw new DataError(
      `${files.labels}: targets must have shape (rows,) or (rows, targets), got (${labels.shape.join(", ")})`,
    );
  const k = labels.shape.length === 2 ? labels.shape[1] : 1;
  return splitTable(
    { raw, rows, features: d, targets: { values, names: Array.from({ length: k }, (_, i) => `target${i}`) } },
    opts,
    source,
  );
}
