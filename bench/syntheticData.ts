// Small seeded datasets for the studies (gammaStudy.ts, defaultsStudy.ts, stochasticOtherStudy.ts), written as
// CSV files: every value comes from the project's counter-based RNG, so the files are the same on
// every machine.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fillGaussian, Stream } from "../shared/math/rng.ts";

/** A CSV of `rows` rows: columns f1..fd of standard normals (stream member `member`) and a label column y. */
export function syntheticCsv(
  dir: string,
  name: string,
  rows: number,
  d: number,
  label: (x: Float64Array, i: number) => string,
  member = d,
): string {
  const z = new Float64Array(rows * d);
  fillGaussian(z, { seed: 11, stream: Stream.data, iteration: 0, member });
  const lines = [[...Array.from({ length: d }, (_, j) => `f${j + 1}`), "y"].join(",")];
  for (let i = 0; i < rows; i++) {
    const x = z.subarray(i * d, (i + 1) * d);
    lines.push([...Array.from(x, (v) => v.toFixed(5)), label(x, i)].join(","));
  }
  const path = join(dir, `${name}.csv`);
  writeFileSync(path, lines.join("\n") + "\n");
  return path;
}

/** 400 rows of 30 features, a binary label from a noisy linear score of the first ten (a "breast
 *  cancer"-sized table, the issue's new user's job); the studies' common tabular case. */
export function tabularCsv(dir: string): string {
  return syntheticCsv(dir, "tabular", 400, 30, (x) => {
    let s = 0;
    for (let j = 0; j < 10; j++) s += x[j] * (j % 2 ? 1 : -0.7);
    return s + 0.5 * x[29] * x[28] > 0 ? "yes" : "no";
  });
}

/** 500 rows of 5 features in four Gaussian blobs (the signs of the first two), 15% of the labels
 *  flipped: label noise that invites overfitting. */
export function noisyBlobsCsv(dir: string): string {
  return syntheticCsv(
    dir,
    "blobs",
    500,
    5,
    (x, i) => {
      const c = (x[0] > 0 ? 1 : 0) + (x[1] > 0 ? 2 : 0);
      return String((i * 2654435761) % 100 < 15 ? (c + 1 + (i % 3)) % 4 : c);
    },
    5,
  );
}
