// How a job ends, whatever ended it: the failure record (the state machine's Catch routes every
// task's error here) and the Outcome state's record of status, final metrics and promotion, which
// the state machine publishes as the job's EventBridge event.

import { getJson, IntegrityError, NotFoundError, putJson, type BlobStore } from "../store/blobStore.ts";
import { keys } from "./jobStore.ts";

/** What a user reads when the job's store filled up (a local server's disk). */
export const storageFullCause = (detail: string) =>
  `the server's storage filled up while the job ran (${detail}); submit it again once space is freed`;

/** Records why the job failed (the state machine's Catch routes here); a task that failed on a full
 *  store (StoreFullError) is recorded as StorageFull, in words. */
export async function recordFailure(store: BlobStore, error: { Error?: string; Cause?: string }): Promise<void> {
  const full = error.Error === "StoreFullError";
  await putJson(store, keys.failure, {
    status: "failed",
    error: full ? "StorageFull" : (error.Error ?? "Error"),
    cause: full ? storageFullCause(error.Cause ?? "") : (error.Cause ?? ""),
  });
}

/** What a job's promotion decided (the service's models.ts), as its outcome reports it. */
export interface PromotionOutcome {
  model: string;
  promoted: boolean;
  version?: number;
  decision: string;
  metrics?: { challenger: Record<string, number> | null; champion: Record<string, number> | null };
}

/** The job's outcome: the Outcome state's output, written to outcome.json and published as the event's detail. */
export interface JobOutcome {
  id: string;
  /** succeeded, or failed (a cancelled job's execution is stopped before this state) */
  status: "succeeded" | "failed";
  /** why the run stopped (converged, max_iterations, early_stopped, …) or why it failed */
  result: string;
  metrics: Record<string, number>;
  promotion: PromotionOutcome | null;
}

/**
 * The Outcome state: the job's status and final metrics, and, where `promote` is given (the
 * service, for a job whose schedule carries a promotion rule), its promotion, which only a
 * succeeded job attempts. A retried state answers the outcome it wrote.
 */
export async function recordOutcome(
  store: BlobStore,
  id: string,
  runStatus: string,
  promote?: (status: JobOutcome["status"]) => Promise<PromotionOutcome | null>,
): Promise<JobOutcome> {
  try {
    return (await getJson(store, keys.outcome)) as JobOutcome;
  } catch (e) {
    // none yet, or a write cut short: decide (again: promotion is idempotent)
    if (!(e instanceof NotFoundError) && !(e instanceof IntegrityError)) throw e;
  }
  const failed = runStatus === "failed" || !(await store.has(keys.result));
  const status: JobOutcome["status"] = failed ? "failed" : "succeeded";
  let result = runStatus,
    metrics: Record<string, number> = {};
  if (failed) {
    const f = (await store.has(keys.failure))
      ? ((await getJson(store, keys.failure)) as { error?: string; cause?: string })
      : {};
    result = [f.error, f.cause].filter(Boolean).join(": ").slice(0, 1000) || "failed";
  } else {
    const r = (await getJson(store, keys.result)) as { status: string; metrics?: Record<string, number> };
    result = r.status;
    metrics = Object.fromEntries(
      Object.entries(r.metrics ?? {}).filter(([, v]) => typeof v === "number" && Number.isFinite(v)),
    );
  }
  const outcome: JobOutcome = { id, status, result, metrics, promotion: promote ? await promote(status) : null };
  await putJson(store, keys.outcome, outcome);
  return outcome;
}
