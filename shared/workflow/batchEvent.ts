// The evaluate task as an AWS Batch job (the GPU option): Step Functions submits one job per shard
// with the task's event in the container's ENKF_EVENT variable; the container runs
// functions/gpu/main.ts, which calls batchEvaluate. The local engine maps the Batch task to the
// same function, with the environment the state machine's parameters produce.

import { ENV } from "../config.ts";
import type { WorkflowHandlers } from "./handlers.ts";

/** The evaluate event a Batch job carries in its environment. */
export function batchEvent(env: Record<string, string | undefined>): unknown {
  const text = env[ENV.event];
  if (!text) throw new Error("ENKF_EVENT is not set: the Batch job's container override carries the evaluate event");
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`ENKF_EVENT is not JSON: ${text.slice(0, 200)}`);
  }
}

/** The environment a submitJob task's ContainerOverrides give the container. */
export function overrideEnvironment(params: unknown): Record<string, string> {
  const list =
    (params as { ContainerOverrides?: { Environment?: { Name: string; Value: string }[] } }).ContainerOverrides
      ?.Environment ?? [];
  return Object.fromEntries(list.map((e) => [e.Name, e.Value]));
}

export async function batchEvaluate(
  env: Record<string, string | undefined>,
  handlers: Pick<WorkflowHandlers, "evaluate">,
): Promise<unknown> {
  return handlers.evaluate(batchEvent(env));
}
