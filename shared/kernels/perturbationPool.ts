// Generates Ω (K member rows of length n, float64, in a SharedArrayBuffer) on worker threads.
// Every element is a pure function of (seed, iteration, member, index), so the split across
// workers cannot change a bit; it only divides the time.

import { Worker } from "node:worker_threads";
import { perturbation, type EnsembleDraw } from "../enkf/ensembleStatistics.ts";

export interface PerturbationPool {
  readonly workers: number;
  /** Ω rows 0..K−1 of `draw` into `omega` (backed by a SharedArrayBuffer when workers > 0) */
  fill(draw: EnsembleDraw, omega: Float64Array, n: number, k: number): Promise<void>;
  close(): Promise<void>;
}

/** A pool of `workers` threads; 0 generates on the calling thread. */
export function perturbationPool(workers: number): PerturbationPool {
  if (workers <= 0) {
    return {
      workers: 0,
      async fill(draw, omega, n, k) {
        for (let j = 0; j < k; j++) perturbation(draw, j, omega.subarray(j * n, (j + 1) * n));
      },
      async close() {},
    };
  }
  const url = new URL("./perturbationWorker.mjs", import.meta.url);
  const threads = Array.from({ length: workers }, () => {
    const w = new Worker(url);
    w.unref();
    return w;
  });
  return {
    workers,
    async fill(draw, omega, n, k) {
      if (!(omega.buffer instanceof SharedArrayBuffer)) throw new Error("the pool fills shared memory: allocate Ω on a SharedArrayBuffer");
      const per = Math.ceil(k / workers);
      await Promise.all(threads.map((w, t) => new Promise<void>((resolve, reject) => {
        const from = Math.min(k, t * per), to = Math.min(k, from + per);
        if (from === to) return resolve();
        const onError = (e: Error) => reject(e);
        w.once("error", onError);
        w.once("message", () => { w.off("error", onError); resolve(); });
        w.postMessage({ buffer: omega.buffer, n, from, to, draw });
      })));
    },
    async close() {
      await Promise.all(threads.map((w) => w.terminate()));
    },
  };
}
