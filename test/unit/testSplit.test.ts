// The fixed test split of the file sources (csv testPath, npy testFeatures + testLabels; idx in
// idx.test.ts): the training file's rows are shuffled and carry the validation split, the test
// file's rows are the test split in their order, standardized with training statistics only; a test
// file that does not fit the training file is refused naming it.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DataError } from "../../shared/data/errors.ts";
import { loadDataset } from "../../shared/data/load.ts";
import { npyDataset } from "../../shared/data/npy.ts";
import type { NpyArray } from "../../shared/formats/npy.ts";
import { DataSpec } from "../../shared/spec/job.ts";

const csv = (rows: [number, number, string][]) => "a,b,y\n" + rows.map((r) => r.join(",")).join("\n") + "\n";
// 30 training rows: a = row number, b = 2·a, class by a mod 3
const train = csv(Array.from({ length: 30 }, (_, i) => [i, 2 * i, ["x", "y", "z"][i % 3]]));
const test = csv([
  [100, 7, "z"],
  [-5, 1, "x"],
]);

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "test-split-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const loadCsv = (dir: string, extra: Record<string, unknown> = {}) =>
  loadDataset(
    DataSpec.parse({ source: "csv", path: "train.csv", label: "y", testPath: "test.csv", ...extra }),
    "classification",
    dir,
  );

describe("a fixed test split", () => {
  it("csv: the test file's rows in order, standardized with the training rows' statistics", async () => {
    const ds = await loadCsv(folder({ "train.csv": train, "test.csv": test }), { validationFraction: 0.2 });
    expect([ds.train.rows, ds.validation!.rows, ds.test.rows]).toEqual([24, 6, 2]);
    expect(ds.names).toEqual(["x", "y", "z"]);
    expect(Array.from(ds.test.labels!)).toEqual([2, 0]);
    // a: training mean 14.5, sd √((30² − 1)/12); the test rows are mapped with those
    const sd = Math.sqrt((30 * 30 - 1) / 12);
    expect(ds.test.x[0]).toBeCloseTo((100 - 14.5) / sd, 5);
    expect(ds.test.x[2]).toBeCloseTo((-5 - 14.5) / sd, 5);
    // every training row once (validation included), shuffled, with its own class
    const as = [...ds.train.x.filter((_, i) => i % 2 === 0), ...ds.validation!.x.filter((_, i) => i % 2 === 0)].map(
      (v) => Math.round(v * sd + 14.5),
    );
    expect([...as].sort((p, q) => p - q)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(as).not.toEqual(Array.from({ length: 30 }, (_, i) => i));
  });

  it("csv: refuses a test file with other columns, or a class the training file lacks, naming it", async () => {
    const dir = folder({
      "train.csv": train,
      "cols.csv": "b,a,y\n1,2,x\n",
      "class.csv": csv([[1, 2, "w"]]),
    });
    for (const [file, words] of [
      ["cols.csv", "feature columns (b, a)"],
      ["class.csv", 'class "w"'],
    ]) {
      const err = await loadCsv(dir, { testPath: file }).catch((e) => e);
      expect(err).toBeInstanceOf(DataError);
      expect(err.message).toContain(join(dir, file));
      expect(err.message).toContain(words);
    }
  });

  it("npy: a test pair; float32 features read as they lie", () => {
    const f32 = (shape: number[], values: number[]): NpyArray => ({
      descr: "<f4",
      shape,
      data: Float32Array.from(values),
    });
    const i64 = (values: number[]): NpyArray => ({
      descr: "<i8",
      shape: [values.length],
      data: BigInt64Array.from(values.map(BigInt)),
    });
    const files = (name: string) => ({ features: `${name}-x.npy`, labels: `${name}-y.npy` });
    const ds = npyDataset(
      {
        features: f32([6, 2], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
        labels: i64([0, 1, 0, 1, 0, 1]),
        files: files("train"),
      },
      { features: f32([2, 2], [0.5, 0.25, 7, 7]), labels: i64([1, 1]), files: files("test") },
      "classification",
      { standardize: false, testFraction: 0.2, seed: 3 },
    );
    expect([ds.train.rows, ds.test.rows]).toEqual([6, 2]);
    expect(Array.from(ds.test.x)).toEqual([0.5, 0.25, 7, 7]);
    expect(Array.from(ds.test.labels!)).toEqual([1, 1]);
    const err = (() => {
      try {
        npyDataset(
          { features: f32([6, 2], new Array(12).fill(1)), labels: i64([0, 1, 0, 1, 0, 1]), files: files("train") },
          { features: f32([1, 3], [1, 2, 3]), labels: i64([1]), files: files("test") },
          "classification",
          { standardize: false, testFraction: 0.2, seed: 3 },
        );
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.message).toContain("test-x.npy + test-y.npy: 3 features, but train-x.npy + train-y.npy has 2");
  });

  it("is one or the other: test files and testFraction, and a pair goes together", () => {
    const bad = [
      { source: "csv", path: "a.csv", label: "y", testPath: "b.csv", testFraction: 0.1 },
      { source: "npy", features: "x.npy", labels: "y.npy", testFeatures: "tx.npy" },
      { source: "idx", images: "i", labels: "l", testLabels: "tl" },
    ];
    for (const b of bad) expect(DataSpec.safeParse(b).success, JSON.stringify(b)).toBe(false);
    expect(DataSpec.safeParse({ source: "csv", path: "a.csv", label: "y", testPath: "b.csv" }).success).toBe(true);
  });
});
