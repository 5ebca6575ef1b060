// The state machine's Launch state: a firing of an EventBridge schedule (a stored schedule's id,
// or a template declared in the CDK app) creates and prepares its job inside the execution the
// firing started. A retried firing finds its job and reports a duplicate, as does a promoting
// schedule's firing while its previous job has not reached its outcome (schedules.ts).

import { z } from "zod";
import type { JobRef } from "../workflow/events.ts";
import type { JobService } from "./jobs.ts";
import { firingKey, type ScheduleService } from "./schedules.ts";

const LaunchEvent = z.object({
  launch: z
    .object({
      schedule: z
        .string()
        .regex(/^[a-z0-9][a-z0-9-]{0,63}$/)
        .optional(),
      template: z.unknown().optional(),
      name: z.string().optional(),
      at: z.string(),
    })
    .refine(
      (l) => (l.schedule === undefined) !== (l.template === undefined),
      "a launch names a stored schedule or carries a template",
    ),
  execution: z.string().optional(),
});

export async function launchJob(
  jobs: JobService,
  schedules: ScheduleService,
  event: unknown,
): Promise<{ job: JobRef | null; duplicate: boolean }> {
  const e = LaunchEvent.parse(event);
  const at = Date.parse(e.launch.at);
  if (!Number.isFinite(at)) throw new Error(`launch: "${e.launch.at}" is not a time`);
  const name = e.launch.schedule ?? e.launch.name ?? "template";
  const f =
    e.launch.schedule !== undefined ? await schedules.firing(e.launch.schedule, at) : { template: e.launch.template };
  // a promoting schedule's firing while its previous job runs, or a retried firing, starts nothing
  if (f === "skip") return { job: null, duplicate: true };
  if ("job" in f) return { job: jobs.jobRef(f.job), duplicate: true };
  const { id, created } = await jobs.submit(f.template, firingKey(name, at), {
    schedule: name,
    execution: e.execution,
    start: false,
    ...("promote" in f && f.promote ? { promote: f.promote } : {}),
  });
  if (created) await schedules.recordFiring(name, at, id);
  return { job: jobs.jobRef(id), duplicate: !created };
}
