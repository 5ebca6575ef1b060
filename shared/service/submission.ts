// What a submitted body must be: a valid job spec the workflow can take. Both failures are
// domain errors naming every field at fault.

import { UnsupportedJobError } from "../setup/jobSetup.ts";
import { specProblems } from "../spec/errors.ts";
import { JobSpec } from "../spec/job.ts";
import { LimitError } from "../spec/limits.ts";
import { WorkflowError } from "../workflow/steps.ts";
import { invalid } from "./errors.ts";
import { InverseProblemError } from "../problems/inverse.ts";
import type { InputReader } from "../setup/inverseInputs.ts";

/** The body as a job spec, or an invalid_spec error naming every bad field. */
export function parseSpec(body: unknown): JobSpec {
  const parsed = JobSpec.safeParse(body);
  if (parsed.success) return parsed.data;
  const details = specProblems(parsed.error);
  throw invalid(`the job spec is not valid: ${details.length} problem${details.length === 1 ? "" : "s"}`, details, "invalid_spec");
}

/**
 * What an inverse job may read when it arrives over HTTP: nothing from the server's disk. Its
 * observations come inline, and an onnx forward's graph has no upload route yet (enkf run reads it).
 */
export const httpInputs: InputReader = async (name, field) => {
  throw new InverseProblemError(field, field === "problem.forward.path"
    ? `an onnx forward's graph is read from the job file's folder by enkf run; the service takes no graph uploads yet (serve the graph over http, or run the job with enkf run)`
    : `"${name}" names a file, which the service does not read from its disk: give the numbers inline`);
};

/** A lambda forward over HTTP: only the functions the deployment may invoke (its state machine's role). */
export function checkForwardFunction(spec: JobSpec, allowed: readonly string[]): void {
  if (spec.problem.type !== "inverse" || spec.problem.forward.type !== "lambda") return;
  const arn = spec.problem.forward.functionArn;
  if (!allowed.includes(arn)) {
    throw invalid(`problem.forward.functionArn: ${arn} is not a function this deployment may invoke (${allowed.length ? allowed.join(", ") : "it names none"}); deploy with -c forwardFunctions=<ARN,…>`, [{ path: "problem.forward.functionArn", message: "not invocable by this deployment" }]);
  }
}

/** A job the workflow cannot take (over a limit, not a network problem, too many shards). */
export function jobRefused(e: unknown): never {
  if (e instanceof LimitError) throw invalid("the job is over the service's limits", e.problems);
  // an inverse problem's definition: observations, bounds, names, a forward that does not answer
  if (e instanceof InverseProblemError) throw invalid(e.message, [{ path: e.path, message: e.message.slice(e.path.length + 2) }]);
  if (e instanceof WorkflowError || e instanceof UnsupportedJobError || e instanceof RangeError) throw invalid(e.message, [{ path: e instanceof RangeError ? "compute.shards" : "problem", message: e.message }]);
  throw e;
}
