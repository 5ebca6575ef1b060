// Rows → Dataset: a seeded shuffle, the last `testFraction` of the rows as the test split (or a fixed
// test table, the test file's rows in order), and optional standardization with training statistics
// only. Shared by every tabular source. Features are read where they lie (any numeric array: a
// .npy's float32 stays float32) and written once, as float32.

import { fillUniform, Stream } from "../math/rng.ts";
import { DataError } from "./errors.ts";
import type { Dataset } from "./types.ts";

export interface Table {
  /** rows × features, row-major (a view of the file's own array where it can be) */
  raw: ArrayLike<number>;
  rows: number;
  features: number;
  /** class index per row, with the class names in index order */
  labels?: { index: Int32Array; names: string[] };
  /** rows × targets, row-major, with the target names */
  targets?: { values: ArrayLike<number>; names: string[] };
  /** the feature columns' names, and the label column's */
  columns?: { features: string[]; label?: string };
}

export interface SplitOptions {
  standardize: boolean;
  testFraction: number;
  seed: number;
}

/** The seeded shuffle of `rows` rows: the first `train` of `order` are the training rows. */
export function splitOrder(
  rows: number,
  opts: SplitOptions,
  source: string,
): { order: Int32Array; train: number; test: number } {
  if (rows < 2) throw new DataError(`${source}: needs at least two rows, found ${rows}`);
  const order = Int32Array.from({ length: rows }, (_, i) => i);
  const u = new Float64Array(rows);
  fillUniform(u, { seed: opts.seed, stream: Stream.data, iteration: 0, member: 0 });
  for (let i = rows - 1; i > 0; i--) {
    const j = Math.floor(u[i] * (i + 1));
    const tmp = order[i];
    order[i] = order[j];
    order[j] = tmp;
  }
  const test = Math.round(rows * opts.testFraction);
  const train = rows - test;
  if (train < 1) throw new DataError(`${source}: testFraction ${opts.testFraction} leaves no training rows`);
  return { order, train, test };
}

/**
 * The training statistics: mean and 1/sd per feature over the training rows, summed in the
 * shuffled order (`row(r, into)` copies raw row r), or 0 and 1 without standardization.
 */
export function trainingStatistics(
  row: (r: number, into: Float64Array) => void,
  d: number,
  order: Int32Array,
  train: number,
  standardize: boolean,
): { mean: Float64Array; scale: Float64Array } {
  const mean = new Float64Array(d),
    scale = new Float64Array(d).fill(1);
  if (!standardize) return { mean, scale };
  const v = new Float64Array(d),
    x = new Float64Array(d);
  for (let i = 0; i < train; i++) {
    row(order[i], x);
    for (let j = 0; j < d; j++) mean[j] += x[j];
  }
  for (let j = 0; j < d; j++) mean[j] /= train;
  for (let i = 0; i < train; i++) {
    row(order[i], x);
    for (let j = 0; j < d; j++) {
      const e = x[j] - mean[j];
      v[j] += e * e;
    }
  }
  for (let j = 0; j < d; j++) {
    const sd = Math.sqrt(v[j] / train);
    scale[j] = sd > 0 ? 1 / sd : 1;
  }
  return { mean, scale };
}

/** A fixed test split: the test file's table, in its order, and its name for errors. */
export interface TestTable {
  table: Table;
  source: string;
}

/** The class index of every row in dataset order, the test rows' names mapped onto the training classes. */
function datasetLabels(t: Table, order: Int32Array, nTrain: number, test: TestTable | undefined): Int32Array {
  const { index, names } = t.labels!;
  const out = new Int32Array(nTrain + (test ? test.table.rows : order.length - nTrain));
  for (let i = 0; i < nTrain; i++) out[i] = index[order[i]];
  if (!test) {
    for (let i = nTrain; i < out.length; i++) out[i] = index[order[i]];
    return out;
  }
  if (!test.table.labels) throw new DataError(`${test.source}: holds targets, but the training data holds classes`);
  const lookup = new Map(names.map((c, i) => [c, i]));
  const tl = test.table.labels;
  for (let r = 0; r < test.table.rows; r++) {
    const name = tl.names[tl.index[r]];
    const c = lookup.get(name);
    if (c === undefined)
      throw new DataError(`${test.source}: row ${r}: class "${name}" is not among the training classes`);
    out[nTrain + r] = c;
  }
  return out;
}

/**
 * The dataset of a table: its rows shuffled with the seed, the training rows first. The test split is
 * the last `testFraction` of them, or, with `test`, the test table's rows in their order.
 */
export function splitTable(t: Table, opts: SplitOptions, source: string, test?: TestTable): Dataset {
  const { features: d, raw } = t;
  if (test && test.table.features !== d)
    throw new DataError(`${test.source}: ${test.table.features} features, but ${source} has ${d}`);
  const { order, train: nTrain, test: held } = splitOrder(t.rows, test ? { ...opts, testFraction: 0 } : opts, source);
  const nTest = test ? test.table.rows : held;
  const { mean, scale } = trainingStatistics(
    (r, into) => {
      for (let j = 0; j < d; j++) into[j] = raw[r * d + j];
    },
    d,
    order,
    nTrain,
    opts.standardize,
  );
  const rows = nTrain + nTest;
  // row i of the dataset: a shuffled row of the table, or a test table's row in order
  const at = (i: number): [Table, number] => (test && i >= nTrain ? [test.table, i - nTrain] : [t, order[i]]);
  const x = new Float32Array(rows * d);
  for (let i = 0; i < rows; i++) {
    const [tab, r] = at(i);
    for (let j = 0; j < d; j++) x[i * d + j] = (tab.raw[r * d + j] - mean[j]) * scale[j];
  }

  const meta = {
    ...(t.columns ? { columns: t.columns } : {}),
    ...(opts.standardize ? { standardization: { mean: Array.from(mean), scale: Array.from(scale) } } : {}),
  };
  if (t.labels) {
    const { names } = t.labels;
    if (names.length < 2) throw new DataError(`${source}: the labels hold only one class (${names[0]})`);
    const labels = datasetLabels(t, order, nTrain, test);
    return {
      kind: "classification",
      features: d,
      outputs: names.length,
      names,
      ...meta,
      train: { x: x.subarray(0, nTrain * d), labels: labels.subarray(0, nTrain), rows: nTrain },
      test: { x: x.subarray(nTrain * d), labels: labels.subarray(nTrain), rows: nTest },
    };
  }
  if (!t.targets) throw new DataError(`${source}: neither labels nor targets`);
  const k = t.targets.names.length;
  if (test && test.table.targets?.names.length !== k)
    throw new DataError(`${test.source}: needs ${k} regression target${k === 1 ? "" : "s"} per row, as ${source} has`);
  const targets = new Float32Array(rows * k);
  for (let i = 0; i < rows; i++) {
    const [tab, r] = at(i);
    for (let c = 0; c < k; c++) targets[i * k + c] = tab.targets!.values[r * k + c];
  }
  return {
    kind: "regression",
    features: d,
    outputs: k,
    names: t.targets.names,
    ...meta,
    train: { x: x.subarray(0, nTrain * d), targets: targets.subarray(0, nTrain * k), rows: nTrain },
    test: { x: x.subarray(nTrain * d), targets: targets.subarray(nTrain * k), rows: nTest },
  };
}

/**
 * Refuses a label column that cannot be classes: more than 20 distinct values and more than one
 * for every 5 rows (a continuous column read as labels would make a class of nearly every row).
 */
export function checkClassCount(classes: number, rows: number, where: string, column: string): void {
  if (classes > 20 && classes * 5 > rows) {
    throw new DataError(
      `${where}: column "${column}" has ${classes} distinct values in ${rows} rows; that looks ` +
        `like a continuous target, not class labels: use problem.type "regression" (or a column of ` +
        `class labels)`,
    );
  }
}

/** Class names in a stable order: numerically when every name is a number, else lexicographically. */
export function sortClassNames(names: Iterable<string>): string[] {
  const all = [...new Set(names)];
  const numeric = all.every((s) => s.trim() !== "" && Number.isFinite(Number(s)));
  return all.sort(numeric ? (a, b) => Number(a) - Number(b) : (a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
