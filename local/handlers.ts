// The workflow's task handlers as the local runtime runs them: the deployed functions' handlers
// plus the crash points ENKF_CRASH_AT names (faults.ts), read when each point is reached.

import { readConfig } from "../shared/config.ts";
import { workflowHandlers } from "../shared/workflow/handlers.ts";
import type { CrashHook } from "../shared/workflow/hooks.ts";
import { crashPoint } from "./faults.ts";

/** SIGKILLs this process where ENKF_CRASH_AT says (tests only; unset, it does nothing). */
export const localCrash: CrashHook = (point, match) => crashPoint(readConfig().crashAt, point, match);

export const localHandlers = workflowHandlers({ crash: localCrash });
