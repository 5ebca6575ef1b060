// Lambda entry point of the state machine's evaluate task (see handlers.ts).
import { handlers } from "./handlers.ts";

export const handler = handlers.evaluate;
