// What a submitted body must be: a valid job spec the workflow can take. Both failures are
// domain errors naming every field at fault.

import { UnsupportedJobError } from "../setup/jobSetup.ts";
import { specProblems } from "../spec/errors.ts";
import { JobSpec } from "../spec/job.ts";
import { LimitError } from "../spec/limits.ts";
import { WorkflowError } from "../workflow/steps.ts";
import { invalid } from "./errors.ts";

/** The body as a job spec, or an invalid_spec error naming every bad field. */
export function parseSpec(body: unknown): JobSpec {
  const parsed = JobSpec.safeParse(body);
  if (parsed.success) return parsed.data;
  const details = specProblems(parsed.error);
  throw invalid(`the job spec is not valid: ${details.length} problem${details.length === 1 ? "" : "s"}`, details, "invalid_spec");
}

/** A job the workflow cannot take (over a limit, not a network problem, too many shards). */
export function jobRefused(e: unknown): never {
  if (e instanceof LimitError) throw invalid("the job is over the service's limits", e.problems);
  if (e instanceof WorkflowError || e instanceof UnsupportedJobError || e instanceof RangeError) throw invalid(e.message, [{ path: e instanceof RangeError ? "compute.shards" : "problem", message: e.message }]);
  throw e;
}
