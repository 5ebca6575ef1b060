// Small seeded datasets for the studies (bench/gammaStudy.ts, bench/defaultsStudy.ts), written as
// CSV files: every value comes from the project's counter-based RNG, so the files are the same on
// every machine.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fillGaussian, Stream } from "../shared/math/rng.ts";

/** A CSV of `rows` rows: columns f1..fd of standard normals (stream member `member`) and a label column y. */
export function syntheticCsv(dir: string, name: string, rows: number, d: number, label: (x: Float64Array, i: number) => string, member = d): string {
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
