// What a submitted body must be: a valid job spec the workflow can take. Both failures are
// domain errors naming every field at fault.

import { UnsupportedJobError } from "../setup/jobSetup.ts";
import { specProblems } from "../spec/errors.ts";
import { JobSpec } from "../spec/job.ts";
import { LimitError } from "../spec/limits.ts";
import { WorkflowError } from "../workflow/errors.ts";
import { invalid } from "./errors.ts";
import { InverseProblemError } from "../problems/inverse.ts";
import { checkNetworkFits, ModelDataError } from "../problems/build.ts";
import type { Dataset } from "../data/types.ts";
import type { InputReader } from "../setup/inverseInputs.ts";

/** The body as a job spec, or an invalid_spec error naming every bad field. */
export function parseSpec(body: unknown): JobSpec {
  const parsed = JobSpec.safeParse(body);
  if (parsed.success) return parsed.data;
  const details = specProblems(parsed.error);
  throw invalid(
    `the job spec is not valid: ${details.length} problem${details.length === 1 ? "" : "s"}`,
    details,
    "invalid_spec",
  );
}

/**
 * What an inverse job may read when it arrives over HTTP: nothing from the server's disk. Its
 * observations come inline, and an onnx forward's graph has no upload route yet (enkf run reads it).
 */
export const httpInputs: InputReader = async (name, field) => {
  throw new InverseProblemError(
    field,
    field === "problem.forward.path"
      ? `an onnx forward's graph is read from the job file's folder by enkf run; the service takes ` +
          `no graph uploads yet (serve the graph over http, or run the job with enkf run)`
      : `"${name}" names a file, which the service does not read from its disk: give the numbers inline`,
  );
};

/** A lambda forward over HTTP: only the functions the deployment may invoke (its state machine's role). */
export function checkForwardFunction(spec: JobSpec, allowed: readonly string[]): void {
  if (spec.problem.type !== "inverse" || spec.problem.forward.type !== "lambda") return;
  const arn = spec.problem.forward.functionArn;
  if (!allowed.includes(arn)) {
    throw invalid(
      `problem.forward.functionArn: ${arn} is not a function this deployment may invoke ` +
        `(${allowed.length ? allowed.join(", ") : "it names none"}); deploy with -c ` +
        `forwardFunctions=<ARN,…>`,
      [{ path: "problem.forward.functionArn", message: "not invocable by this deployment" }],
    );
  }
}

/**
 * An http forward over HTTP: only the hosts the server allows (enkf serve --forward-hosts; on AWS
 * -c forwardHosts), as "host" (any port) or "host:port". None by default, so a job cannot make the
 * server call its own loopback or internal network.
 */
export function checkForwardHost(spec: JobSpec, allowed: readonly string[]): void {
  if (spec.problem.type !== "inverse" || spec.problem.forward.type !== "http") return;
  const url = new URL(spec.problem.forward.url);
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  const host = url.hostname.toLowerCase();
  if (
    allowed.some((a) => {
      const [h, p] = a.toLowerCase().split(/:(?=\d+$)/);
      return h === host && (p === undefined || p === port);
    })
  )
    return;
  throw invalid(
    `problem.forward.url: this server calls forward models only on the hosts it was started ` +
      `with (${allowed.length ? allowed.join(", ") : "none: start it with --forward-hosts HOST[:PORT],…"})`,
    [{ path: "problem.forward.url", message: "host not allowed" }],
  );
}

/** A forward that did not answer its probe, said without what the attempt revealed (the log has it). */
export function forwardUnreachable(e: unknown): never {
  if (e instanceof InverseProblemError && e.path === "problem.forward.url") {
    throw invalid("problem.forward.url did not answer a forward at the prior mean", [
      { path: "problem.forward.url", message: "no answer to the probe" },
    ]);
  }
  throw e;
}

/** A network job over its loaded data: what only the data can tell, as a 400 naming the field. */
export function checkFits(spec: JobSpec, dataset: Dataset): void {
  const p = spec.problem;
  if (p.type !== "classification" && p.type !== "regression") return;
  try {
    checkNetworkFits(p, dataset);
  } catch (e) {
    jobRefused(e);
  }
}

/** A job the workflow cannot take (over a limit, not a network problem, too many shards). */
/** The job field a refusal names: its own (a reducer that does not fit), the shards, or the problem. */
const fieldOf = (e: Error) =>
  "path" in e && typeof e.path === "string" ? e.path : e instanceof RangeError ? "compute.shards" : "problem";

export function jobRefused(e: unknown): never {
  if (e instanceof LimitError) throw invalid("the job is over the service's limits", e.problems);
  // an inverse problem's definition: observations, bounds, names, a forward that does not answer
  if (e instanceof InverseProblemError)
    throw invalid(e.message, [{ path: e.path, message: e.message.slice(e.path.length + 2) }]);
  // a network that does not fit its data (a CNN's input, the loss for the labels)
  if (e instanceof ModelDataError) throw invalid(`${e.path}: ${e.message}`, [{ path: e.path, message: e.message }]);
  if (e instanceof WorkflowError || e instanceof UnsupportedJobError || e instanceof RangeError)
    throw invalid(e.message, [{ path: fieldOf(e), message: e.message }]);
  throw e;
}
