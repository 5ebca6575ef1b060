// Test fixtures shared by the kernel suites: a seeded random classification dataset and the
// relative max-difference used to compare statistics.

import type { Dataset } from "../../shared/data/types.ts";
import { fillGaussian, fillUniform, Stream } from "../../shared/math/rng.ts";

/** `rows` Gaussian feature rows with uniform random labels; the last `testRows` are the test split. */
export function randomClassification(
  rows: number,
  features: number,
  classes: number,
  testRows: number,
  seed: number,
  iteration: number,
): Dataset {
  const xs = new Float64Array(rows * features),
    u = new Float64Array(rows);
  fillGaussian(xs, { seed, stream: Stream.data, iteration, member: 0 });
  fillUniform(u, { seed, stream: Stream.data, iteration, member: 1 });
  const x = Float32Array.from(xs);
  const labels = Int32Array.from(u, (v) => Math.floor(v * classes));
  const split = (a: number, b: number) => ({
    x: x.subarray(a * features, b * features),
    labels: labels.subarray(a, b),
    rows: b - a,
  });
  return {
    kind: "classification",
    features,
    outputs: classes,
    names: [...Array(classes).keys()].map(String),
    train: split(0, rows - testRows),
    test: split(rows - testRows, rows),
  };
}

/** max |a − b| / max |b| */
export function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0,
    s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / s;
}

/**
 * A small MLP (hidden layer of 6) classification job for a dataset prepared into a job's store (its
 * data names a CSV the workflow never reads): the modified EnKF with `optimizer`'s fields over seed 3.
 */
export const smallMlpJob = (name: string, optimizer: object, iterations: number, compute: object) => ({
  name,
  problem: {
    type: "classification",
    data: { source: "csv", path: "unused.csv", label: "y" },
    model: { type: "mlp", hidden: [6] },
    seed: 2,
  },
  optimizer: { method: "modified-enkf", ...optimizer, seed: 3 },
  stop: { maxIterations: iterations },
  compute,
});
