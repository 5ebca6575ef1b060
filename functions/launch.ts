// Lambda entry point of the state machine's Launch state: a schedule's firing creates and
// prepares its job (shared/service/launch.ts), then the execution goes on to Init.

import { readConfig, required } from "../shared/config.ts";
import { Service } from "../shared/service/service.ts";

let service: Service | undefined;

export async function handler(event: unknown): Promise<unknown> {
  const bucket = required(readConfig(), "bucket");
  // Launch never starts or schedules anything: the execution it runs in is the job's
  service ??= new Service({
    location: `s3://${bucket}/`,
    engine: { start: async () => undefined, stop: async () => undefined },
    scheduler: { allowSeconds: false, arm: async () => undefined, disarm: async () => undefined },
  });
  return service.launch(event);
}
