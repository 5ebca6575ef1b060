// Calibrates the cost model on this machine: prepares the job in a temporary store, runs shard 0's
// evaluate task three times (the first warms the caches, the next two are timed, as a warm Lambda
// function would run them) and times a K×K solve for the reducer.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Dataset } from "../data/types.ts";
import { decodePartial } from "../distributed/shardPartial.ts";
import { solveSymmetric } from "../math/linalg.ts";
import { keys } from "../workflow/jobStore.ts";
import { localStore } from "../store/localStore.ts";
import { evaluateStep, initJob, prepareJob } from "../workflow/steps.ts";

export interface Calibration {
  localShardSeconds: number;
  localReduceSeconds: number;
  /** the kernel's own phases in the timed task (RNG, packing, forward, Gram, update), from its partial */
  kernelSeconds: number;
}

export async function calibrate(spec: unknown, dataset: Dataset, shards: number, k: number): Promise<Calibration> {
  const dir = mkdtempSync(join(tmpdir(), "enkf-plan-"));
  try {
    const store = localStore(dir);
    await prepareJob(store, spec, dataset, shards);
    await initJob(store);
    const times: number[] = [];
    let kernelSeconds = Infinity;
    for (let i = 0; i < 3; i++) {
      // evaluate skips a shard whose partial is already whole: each timed run starts without it
      await store.delete(keys.partial(0, 0));
      const t0 = performance.now();
      await evaluateStep(store, 0, 0);
      times.push((performance.now() - t0) / 1000);
      const t = decodePartial(await store.get(keys.partial(0, 0))).timings;
      if (i > 0 && t) kernelSeconds = Math.min(kernelSeconds, t.reduce((a, b) => a + b, 0));
    }
    const localShardSeconds = Math.min(times[1], times[2]);
    // the reducer: a K×K solve plus reading S partials of 8K² bytes (at about 1 GB/s)
    const a = new Float64Array(k * k), b = new Float64Array(k).fill(1);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) a[i * k + j] = (i === j ? k : 0) + 1 / (1 + i + j);
    const t0 = performance.now();
    solveSymmetric(a, b, k);
    const localReduceSeconds = (performance.now() - t0) / 1000 + (shards * 8 * k * k) / 1e9;
    return { localShardSeconds, localReduceSeconds, kernelSeconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
