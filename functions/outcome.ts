// Lambda entry point of the state machine's Outcome state: the job's outcome, and the promotion
// its schedule asked for (shared/service/outcome.ts); Publish outcome then sends it to EventBridge.

import { workflowService } from "./service.ts";

export const handler = (event: unknown): Promise<unknown> => workflowService().outcome(event);
