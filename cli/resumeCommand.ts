// `enkf resume <runDir | jobId>`: continues a job run through the state machine from its last
// completed round (evaluate and reduce are idempotent, so the θ it ends with is the one an
// uninterrupted run gives). A job id names a job of `enkf serve`'s data directory.

import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { getJson, StoreError, type BlobStore } from "../shared/store/blobStore.ts";
import { openStore } from "../shared/store/openStore.ts";
import { keys } from "../shared/workflow/jobStore.ts";
import { preparedJob } from "../shared/workflow/workflowJob.ts";
import { CliError, type Io } from "./io.ts";
import { executeWorkflow } from "./workflowRun.ts";

export interface ResumeFlags {
  /** enkf serve's data directory, for a job id */
  data: string;
  endpoint?: string;
  quiet: boolean;
}

export async function resumeCommand(target: string, flags: ResumeFlags, io: Io): Promise<number> {
  let location = target;
  if (!target.startsWith("s3://")) {
    location = existsSync(target) ? resolve(target) : join(resolve(flags.data), "jobs", target);
    if (!existsSync(location))
      throw new CliError(2, `no run directory "${target}" and no job "${target}" in ${flags.data} (--data)`);
  }
  let store: BlobStore;
  try {
    store = openStore(location, { endpoint: flags.endpoint });
  } catch (e) {
    throw new CliError(2, (e as Error).message);
  }
  try {
    const member =
      (await store.has(keys.spec)) &&
      ((await getJson(store, keys.spec)) as { problem?: { type?: unknown } }).problem?.type === "inverse";
    if (!(await store.has(keys.spec)) || (!member && !(await store.has(keys.manifest)))) {
      throw new CliError(
        2,
        `${location} holds no job run through the state machine (no spec.json and dataset); only ` +
          `those can be resumed (give the job compute.shards or --store)`,
      );
    }
    if (await store.has(keys.result)) {
      const r = (await getJson(store, keys.result)) as { status: string; iterations: number };
      if (!flags.quiet)
        io.stdout.write(`${location}: already finished (${r.status}, ${r.iterations} iterations); nothing to resume\n`);
      return 0;
    }
    if (await store.has(keys.failure)) await store.delete(keys.failure); // a new attempt; the old cause is in its log
    const { job, shards } = await preparedJob(store);
    if (!flags.quiet) io.stderr.write(`resuming ${location}\n`);
    return await executeWorkflow(
      store,
      location,
      job,
      shards,
      { endpoint: flags.endpoint, quiet: flags.quiet },
      io,
      true,
    );
  } catch (e) {
    if (e instanceof StoreError) throw new CliError(1, e.message);
    throw e;
  }
}
