// The idx source on IDX files the test writes: gzipped and plain give the same dataset; the fixed
// test split is the test files in order; every bad file (wrong magic number, truncated, a label
// count that does not match the images, a class the training labels lack) is refused naming it.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { DataError } from "../../shared/data/errors.ts";
import { loadDataset } from "../../shared/data/load.ts";
import { DataSpec } from "../../shared/spec/job.ts";

/** An IDX file of unsigned bytes: magic 0x0000080<dims>, the dimensions, the bytes. */
function idx(shape: number[], data: ArrayLike<number>): Uint8Array {
  const head = new Uint8Array(4 + 4 * shape.length);
  const view = new DataView(head.buffer);
  view.setUint32(0, 0x00000800 + shape.length, false);
  shape.forEach((n, i) => view.setUint32(4 + 4 * i, n, false));
  const out = new Uint8Array(head.length + data.length);
  out.set(head);
  out.set(Uint8Array.from(data), head.length);
  return out;
}

// 40 training images of 2×3 pixels whose first pixel is 10·label, 3 classes; 6 test images
const trainLabels = Array.from({ length: 40 }, (_, i) => i % 3);
const trainImages = trainLabels.flatMap((l, i) => [10 * l, i, 255, 0, 7, 200]);
const testLabels = [2, 0, 1, 1, 0, 2];
const testImages = testLabels.flatMap((l, i) => [10 * l, 100 + i, 255, 0, 7, 200]);

function folder(files: Record<string, Uint8Array>): string {
  const dir = mkdtempSync(join(tmpdir(), "idx-"));
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  return dir;
}

const good = () => ({
  "train-images": idx([40, 2, 3], trainImages),
  "train-labels": idx([40], trainLabels),
  "test-images.gz": gzipSync(idx([6, 2, 3], testImages)),
  "test-labels.gz": gzipSync(idx([6], testLabels)),
});

const load = (dir: string, data: Record<string, unknown>) =>
  loadDataset(
    DataSpec.parse({ source: "idx", images: "train-images", labels: "train-labels", ...data }),
    "classification",
    dir,
  );

describe("the idx source", () => {
  it("reads a training pair and a fixed test split, plain and gzipped alike", async () => {
    const dir = folder({ ...good(), "train-images.gz": gzipSync(idx([40, 2, 3], trainImages)) });
    const ds = await load(dir, { testImages: "test-images.gz", testLabels: "test-labels.gz", validationFraction: 0 });
    expect(ds.features).toBe(6);
    expect(ds.names).toEqual(["0", "1", "2"]);
    expect(ds.train.rows).toBe(40);
    // the test split is the test files in their order, pixels ÷ 255
    expect(ds.test.rows).toBe(6);
    expect(Array.from(ds.test.labels!)).toEqual(testLabels);
    expect(ds.test.x[1 * 6 + 1]).toBeCloseTo(101 / 255, 6);
    // every training image is there once, shuffled, with its own label
    const seen = new Set<number>();
    for (let r = 0; r < 40; r++) {
      const i = Math.round(ds.train.x[r * 6 + 1] * 255);
      seen.add(i);
      expect(ds.train.labels![r]).toBe(trainLabels[i]);
      expect(Math.round(ds.train.x[r * 6] * 255)).toBe(10 * trainLabels[i]);
    }
    expect(seen.size).toBe(40);
    // the same files gzipped give the same dataset
    const gz = await load(dir, {
      images: "train-images.gz",
      testImages: "test-images.gz",
      testLabels: "test-labels.gz",
      validationFraction: 0,
    });
    expect(gz.train.x).toEqual(ds.train.x);
    expect(gz.train.labels).toEqual(ds.train.labels);
    // the map from raw pixels the model card keeps: ÷ 255
    expect(ds.standardization?.scale[0]).toBeCloseTo(1 / 255, 12);
  });

  it("without test files, holds out testFraction of the shuffled rows; standardizes on request", async () => {
    const ds = await load(folder(good()), { testFraction: 0.25, standardize: true, validationFraction: 0.1 });
    expect([ds.train.rows, ds.validation!.rows, ds.test.rows]).toEqual([27, 3, 10]);
    // standardized with the 30 training rows' statistics (validation included, test not): pixel 1 has mean 0
    let sum = 0;
    for (const split of [ds.train, ds.validation!]) for (let r = 0; r < split.rows; r++) sum += split.x[r * 6 + 1];
    expect(Math.abs(sum)).toBeLessThan(1e-4);
    // a pixel with the same value in every image (sd 0) keeps scale 1
    expect(ds.standardization!.scale[2]).toBe(1);
  });

  it.each([
    [
      "a wrong magic number",
      { "train-labels": idx([40, 2, 3], trainImages) },
      "train-labels",
      "magic number 0x00000803",
    ],
    [
      "a truncated file",
      { "train-images": idx([40, 2, 3], trainImages).subarray(0, 100) },
      "train-images",
      "truncated",
    ],
    [
      "a label count that does not match",
      { "train-labels": idx([39], trainLabels.slice(0, 39)) },
      "train-labels",
      "39 labels",
    ],
    [
      "a test class the training labels lack",
      { "test-labels.gz": gzipSync(idx([6], [0, 1, 2, 5, 0, 1])) },
      "test-labels.gz",
      "class 5",
    ],
    [
      "a gzip stream cut short",
      { "test-images.gz": gzipSync(idx([6, 2, 3], testImages)).subarray(0, 30) },
      "test-images.gz",
      "gzip",
    ],
    [
      "test images of another size",
      { "test-images.gz": gzipSync(idx([6, 3, 2], testImages)) },
      "test-images.gz",
      "3 × 2",
    ],
  ])("refuses %s naming the file", async (_what, bad, file, words) => {
    const dir = folder({ ...good(), ...bad });
    const err = await load(dir, { testImages: "test-images.gz", testLabels: "test-labels.gz" }).catch((e) => e);
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toContain(join(dir, file));
    expect(err.message).toContain(words);
  });

  it("names the Debian package when its files are missing, and refuses half a test pair", async () => {
    const err = await load("/", { images: "/usr/share/datasets/no-such-set/train-images-idx3-ubyte.gz" }).catch(
      (e) => e,
    );
    expect(err.message).toContain("apt-get install dataset-no-such-set");
    const half = DataSpec.safeParse({ source: "idx", images: "a", labels: "b", testImages: "c" });
    expect(half.success).toBe(false);
    expect(JSON.stringify(half.error?.issues)).toContain("testLabels");
  });
});
