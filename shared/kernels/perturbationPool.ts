// Fills the packed member tensors of the batched forward: member 0 = θ on the calling thread, and
// the perturbed members θ + ω_j (j = 1..K) on worker threads (the tensors in SharedArrayBuffers). Every element is a
// pure function
// of (seed, iteration, member, index), so the split across workers cannot change a bit; it only
// divides the time.

import { Worker } from "node:worker_threads";
import type { EnsembleDraw } from "../math/perturbation.ts";
import type { NetworkModel } from "../models/model.ts";
import type { PackedLayer } from "./pack.ts";
import { fillMembers } from "./fillMembers.ts";
import { onnxAdapter } from "./onnxModels.ts";

/** Pack member j + 1 = θ + ω_j into the batched-forward tensors of J = K + 1 members. */
export interface PackJob {
  model: NetworkModel;
  theta: Float64Array;
  packed: PackedLayer[];
}

export interface PerturbationPool {
  readonly workers: number;
  /** settles once every worker has loaded (a kernel awaits it when it is built: start-up, not RNG time) */
  readonly ready: Promise<void>;
  /** Member 0 = θ and members j + 1 = θ + ω_j, j = 0..K−1, of `draw` into the packed tensors
   *  (SharedArrayBuffers when workers > 0; θ may be any array). */
  fill(draw: EnsembleDraw, k: number, pack: PackJob): Promise<void>;
  close(): Promise<void>;
}

/** Member 0 of the packed tensors is θ itself. */
function packTheta(pack: PackJob, k: number): void {
  onnxAdapter(pack.model).pack(pack.packed, k + 1, 0, pack.theta);
}

/** A pool of `workers` threads; 0 generates on the calling thread. */
export function perturbationPool(workers: number): PerturbationPool {
  if (workers <= 0) {
    return {
      workers: 0,
      ready: Promise.resolve(),
      async fill(draw, k, pack) {
        packTheta(pack, k);
        fillMembers(draw, pack.theta.length, k, 0, k, pack);
      },
      async close() {},
    };
  }
  let theta: Float64Array | null = null;
  const url = new URL("./perturbationWorker.mjs", import.meta.url);
  const threads = Array.from({ length: workers }, () => {
    const w = new Worker(url);
    w.unref();
    return w;
  });
  // each worker says "ready" once its modules are loaded
  const ready = Promise.all(
    threads.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          w.once("error", reject);
          w.once("message", () => {
            w.off("error", reject);
            resolve();
          });
        }),
    ),
  ).then(() => undefined);
  ready.catch(() => undefined);
  return {
    workers,
    ready,
    async fill(draw, k, pack) {
      await ready;
      const shared = (a: Float32Array | Float64Array) => a.buffer instanceof SharedArrayBuffer;
      if (pack.packed.some((p) => !shared(p.weights) || !shared(p.bias))) {
        throw new Error("the pool fills shared memory: allocate the packed tensors on SharedArrayBuffers");
      }
      packTheta(pack, k);
      const n = pack.theta.length;
      // the workers read θ from shared memory
      if (!theta || theta.length !== n) theta = new Float64Array(new SharedArrayBuffer(8 * n));
      theta.set(pack.theta);
      const job: PackJob = { ...pack, theta };
      const per = Math.ceil(k / workers);
      await Promise.all(
        threads.map(
          (w, t) =>
            new Promise<void>((resolve, reject) => {
              const from = Math.min(k, t * per),
                to = Math.min(k, from + per);
              if (from === to) return resolve();
              const onError = (e: Error) => reject(e);
              w.once("error", onError);
              w.once("message", () => {
                w.off("error", onError);
                resolve();
              });
              w.postMessage({ n, k, from, to, draw, pack: job });
            }),
        ),
      );
    },
    async close() {
      await Promise.all(threads.map((w) => w.terminate()));
    },
  };
}
