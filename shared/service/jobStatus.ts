// A job's status and history as its store shows them, so they are the same whichever process
// asks (the service, enkf watch): result.json → its result's status (converged, max_iterations,
// … → succeeded), failure.json → failed, cancel.json → cancelled, a state → running, else queued.

import type { JobStatus, JobView } from "../spec/api.ts";
import type { JobOutcome } from "../workflow/outcome.ts";
import { getJson, IntegrityError, NotFoundError, type BlobStore } from "../store/blobStore.ts";
import { keys, loadState, stateRounds } from "../workflow/jobStore.ts";

/** A finished run's job status from its result's status (converged, max_iterations, … → succeeded). */
export function finishedStatus(resultStatus: string | undefined): JobStatus {
  return resultStatus === "failed" ? "failed" : resultStatus === "cancelled" ? "cancelled" : "succeeded";
}

/** Progress (1 once succeeded) and the ETA at the pace so far (while queued or running). */
export function jobProgress(
  status: JobStatus,
  iteration: number,
  maxIterations: number,
  lastSeconds: unknown,
): { progress: number; etaSeconds: number | null } {
  const active = status === "running" || status === "queued";
  return {
    progress: status === "succeeded" ? 1 : Math.min(1, iteration / maxIterations),
    etaSeconds:
      active && typeof lastSeconds === "number" && iteration > 0
        ? (lastSeconds / iteration) * Math.max(0, maxIterations - iteration)
        : null,
  };
}

export async function storeStatus(store: BlobStore): Promise<{ status: JobStatus; message?: string }> {
  if (await store.has(keys.result)) {
    try {
      const r = (await getJson(store, keys.result)) as { message?: string; status?: string };
      return { status: finishedStatus(r.status), ...(r.message ? { message: r.message } : {}) };
    } catch (e) {
      // finalize is writing it right now: the job is still running
      if (!(e instanceof IntegrityError)) throw e;
      return { status: "running" };
    }
  }
  if (await store.has(keys.failure)) {
    const f = (await getJson(store, keys.failure)) as { cause?: string; error?: string };
    return { status: "failed", message: f.cause || f.error || "failed" };
  }
  if (await store.has("cancel.json"))
    return { status: "cancelled", message: "cancelled; the completed iterations are kept in the job's store" };
  return { status: (await store.list("state/")).length > 0 ? "running" : "queued" };
}

/** The history so far: from result.json once finished, else from the latest state. */
export async function storeHistory(store: BlobStore, status?: JobStatus): Promise<unknown[]> {
  if ((status ?? (await storeStatus(store)).status) === "succeeded")
    return ((await getJson(store, keys.result)) as { history: unknown[] }).history;
  // newest first; a state whose write has not finished yet (no checksum beside it) is skipped, as
  // the reducer may be writing it while a watcher reads
  for (const r of await stateRounds(store)) {
    try {
      return [...(await loadState(store, r)).process.progress.history];
    } catch (e) {
      if (!(e instanceof NotFoundError) && !(e instanceof IntegrityError) && !(e instanceof RangeError)) throw e;
    }
  }
  return [];
}

/** The promotion its outcome.json records, once the Outcome state has run. */
export async function storePromotion(store: BlobStore): Promise<{ promotion?: JobView["promotion"] }> {
  try {
    const p = ((await getJson(store, keys.outcome)) as JobOutcome).promotion;
    return {
      promotion: p
        ? {
            model: p.model,
            promoted: p.promoted,
            ...(p.version !== undefined ? { version: p.version } : {}),
            decision: p.decision,
          }
        : null,
    };
  } catch (e) {
    if (e instanceof NotFoundError || e instanceof IntegrityError) return {}; // not yet, or being written
    throw e;
  }
}
