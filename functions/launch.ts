// Lambda entry point of the state machine's Launch state: a schedule's firing creates and
// prepares its job (shared/service/launch.ts), then the execution goes on to Init.

import { workflowService } from "./service.ts";

export const handler = (event: unknown): Promise<unknown> => workflowService().launch(event);
