// The injection point of the workflow's crash tests: a step calls `crash` at each point where a
// process may die (a partial computed but not written, partials read but no state written, …).
// Deployed functions pass nothing; the local runtime passes local/faults.ts's ENKF_CRASH_AT check.

/** evaluate:<round>, reduce:<round>, write:<key>, between:<round>, finalize */
export type CrashPoint = "evaluate" | "reduce" | "write" | "between" | "finalize";

export type CrashHook = (point: CrashPoint, match?: string | number) => void;

export const noCrash: CrashHook = () => undefined;
