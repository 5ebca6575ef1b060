// Lambda entry point of the state machine's recordFailure task (see handlers.ts).
import { handlers } from "./handlers.ts";

export const handler = handlers.recordFailure;
