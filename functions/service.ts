// The service as the state machine's Launch and Outcome functions build it: the jobs bucket from
// the environment, and an engine and scheduler that do nothing (the execution they run in is the
// job's, and they never schedule), built once per cold start.

import { readConfig, required } from "../shared/config.ts";
import { Service } from "../shared/service/service.ts";

let service: Service | undefined;

export function workflowService(): Service {
  const config = readConfig();
  service ??= new Service({
    location: `s3://${required(config, "bucket")}/`,
    forwardFunctions: config.forwardFunctions,
    forwardHosts: config.forwardHosts,
    engine: { start: async () => undefined, stop: async () => undefined },
    scheduler: { allowSeconds: false, arm: async () => undefined, disarm: async () => undefined },
  });
  return service;
}
