// Lambda entry point of the state machine's Launch state: a schedule's firing creates and
// prepares its job (JobService.launch), then the execution goes on to Init.

import { JobService } from "./api/service.ts";

let service: JobService | undefined;

export async function handler(event: unknown): Promise<unknown> {
  const bucket = process.env.ENKF_BUCKET;
  if (!bucket) throw new Error("the function's environment lacks ENKF_BUCKET");
  // Launch never starts or schedules anything: the execution it runs in is the job's
  service ??= new JobService({
    location: `s3://${bucket}/`,
    engine: { start: async () => undefined, stop: async () => undefined },
    scheduler: { allowSeconds: false, arm: async () => undefined, disarm: async () => undefined },
  });
  return service.launch(event);
}
