// The GPU container's command: evaluates the shard named in ENKF_EVENT (shared/workflow/batchEvent.ts) and
// exits 0, or prints why and exits 1 so that Batch marks the job failed (and Step Functions
// retries it or routes the job to RecordFailure).

import { batchEvaluate } from "../../shared/workflow/batchEvent.ts";
import { handlers } from "../handlers.ts";

try {
  const done = await batchEvaluate(process.env, handlers);
  console.log(JSON.stringify({ evaluated: done }));
} catch (e) {
  console.error(`enkf: evaluate failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
}
