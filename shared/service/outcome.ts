// The state machine's Outcome state as the service runs it: the job's outcome (status, metrics)
// and, for a job whose schedule carries a promotion rule, its promotion to the model's champion
// (models.ts). A failed job never promotes, nor does a cancelled one (its execution is stopped
// before this state). The outcome is written to the job's outcome.json and becomes the detail of
// the EventBridge event the next state publishes.

import { openStore } from "../store/openStore.ts";
import { jobId, OutcomeEvent, parseEvent, type JobRef } from "../workflow/events.ts";
import { recordOutcome, type JobOutcome, type PromotionOutcome } from "../workflow/outcome.ts";
import type { PromotionRule } from "../spec/api.ts";
import { ServiceError } from "./errors.ts";
import type { JobService } from "./jobs.ts";
import { ModelService } from "./models.ts";

async function promotion(
  models: ModelService,
  id: string,
  status: JobOutcome["status"],
  rule: PromotionRule,
  by: string,
): Promise<PromotionOutcome> {
  if (status !== "succeeded")
    return { model: rule.model, promoted: false, decision: "the job failed, and a failed job never promotes" };
  try {
    const v = await models.promote(rule.model, id, { rule: ModelService.rule(rule), by });
    return { model: rule.model, promoted: v.promoted, version: v.version, decision: v.decision, metrics: v.metrics };
  } catch (e) {
    // a job that cannot be a version of the model is the outcome's news, not an error of the machine
    if (e instanceof ServiceError && e.kind === "invalid")
      return { model: rule.model, promoted: false, decision: `not a candidate: ${e.message}` };
    throw e;
  }
}

export async function jobOutcome(
  jobs: JobService,
  models: ModelService,
  event: unknown,
): Promise<JobOutcome & { job: JobRef }> {
  const e = parseEvent(OutcomeEvent, event, "outcome");
  const id = jobId(e.job);
  const rec = await jobs.record(id).catch((err: unknown) => {
    if (err instanceof ServiceError && err.kind === "not_found") return null; // a store of its own (enkf run --store)
    throw err;
  });
  const rule = rec?.promote;
  const by = rec?.schedule ? `schedule ${rec.schedule}` : "the job's promotion rule";
  const store = openStore(e.job.store, { endpoint: e.job.endpoint });
  return {
    job: e.job,
    ...(await recordOutcome(
      store,
      id,
      e.status,
      rule ? (status) => promotion(models, id, status, rule, by) : undefined,
    )),
  };
}
