// The workflow's task handlers as the deployed functions run them (Lambda and the GPU container):
// built once per cold start from the function's environment, with no fault injection.

import { readConfig, type Config } from "../shared/config.ts";
import { workflowHandlers } from "../shared/workflow/handlers.ts";

export function deployedHandlers(config: Config = readConfig()) {
  return workflowHandlers({ gpuOption: config.gpuOption !== "off" });
}

export const handlers = deployedHandlers();
