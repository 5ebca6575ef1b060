// Lambda entry point of the state machine's init task (see handlers.ts).
import { handlers } from "./handlers.ts";

export const handler = handlers.init;
