// enkf serve's dry runs (POST /jobs?dryRun=true) on a worker thread of their own, bounded in time
// and in heap, so a long calibration never stalls the server's other requests.

import { Worker } from "node:worker_threads";
import type { Dataset } from "../shared/data/types.ts";
import { invalid, ServiceError } from "../shared/service/errors.ts";
import type { Planner } from "../shared/service/ports.ts";
import type { JobSpec } from "../shared/spec/job.ts";

export interface DryRunInput {
  spec: JobSpec;
  dataset: Dataset;
  shards: number;
  memoryMb: number;
}

export function workerPlanner(opts: { timeoutMs: number; heapMb: number }): Planner {
  return (spec, dataset, shards, memoryMb) =>
    new Promise((resolve, reject) => {
      const input: DryRunInput = { spec, dataset, shards, memoryMb };
      const worker = new Worker(new URL("./dryRunWorker.mjs", import.meta.url), {
        workerData: input,
        resourceLimits: { maxOldGenerationSizeMb: opts.heapMb },
      });
      let settled = false;
      const settle = (f: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        void worker.terminate();
        f();
      };
      const timer = setTimeout(
        () =>
          settle(() =>
            reject(
              invalid(
                `the dry run's calibration took longer than ${opts.timeoutMs / 1000} s, the most this ` +
                  `server gives one; run enkf plan on the job file instead`,
                [{ path: "dryRun", message: "too long to calibrate here" }],
              ),
            ),
          ),
        opts.timeoutMs,
      );
      worker.once(
        "message",
        (m: {
          estimate?: unknown;
          refused?: { kind: ServiceError["kind"]; message: string; details: ServiceError["details"]; code?: string };
          error?: string;
        }) =>
          settle(() => {
            if (m.refused)
              reject(new ServiceError(m.refused.kind, m.refused.message, m.refused.details, m.refused.code));
            else if (m.error !== undefined) reject(new Error(`the dry run failed: ${m.error}`));
            else resolve(m.estimate as Awaited<ReturnType<Planner>>);
          }),
      );
      worker.once("error", (e: Error & { code?: string }) =>
        settle(() =>
          reject(
            e.code === "ERR_WORKER_OUT_OF_MEMORY"
              ? invalid(
                  `the dry run's calibration needed more than the ${opts.heapMb} MB of heap this server ` +
                    `gives one; run enkf plan on the job file instead`,
                  [{ path: "dryRun", message: "too large to calibrate here" }],
                )
              : e,
          ),
        ),
      );
      worker.once("exit", (code) =>
        settle(() => reject(new Error(`the dry run's worker exited (${code}) without an answer`))),
      );
    });
}
