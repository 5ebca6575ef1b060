// Worker side of a dry run: calibrates the job's AWS estimate (shared/plan) on the data it was
// sent, and answers with the estimate, or with the refusal as the service's domain error.

import { parentPort, workerData } from "node:worker_threads";
import { planJob } from "../shared/plan/calibrate.ts";
import { ServiceError } from "../shared/service/errors.ts";
import { jobRefused } from "../shared/service/submission.ts";
import type { DryRunInput } from "./dryRun.ts";

const { spec, dataset, shards, memoryMb } = workerData as DryRunInput;
try {
  parentPort!.postMessage({ estimate: await planJob(spec, dataset, shards, memoryMb).catch(jobRefused) });
} catch (e) {
  if (e instanceof ServiceError)
    parentPort!.postMessage({ refused: { kind: e.kind, message: e.message, details: e.details, code: e.code } });
  else parentPort!.postMessage({ error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
}
