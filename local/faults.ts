// Fault injection, for tests and chaos runs only: nothing happens unless these variables are set.
// Only the local runtime injects them (local/handlers.ts, local/engine.ts); deployed functions never do.
//   ENKF_CRASH_AT="<point>[:<match>]"  SIGKILLs this process when it passes that point:
//     evaluate:<round> (a shard's partial computed, not yet written), reduce:<round> (partials
//     read, state not yet written), write:<key part> (an object's bytes in place, its checksum
//     not yet), between:<round> (round done, the next not begun), finalize (θ written, result not)
//   ENKF_FAULTS="evaluate=<p>[,seed=<n>]"  fails evaluate tasks with probability p as transient
//     Lambda service errors (the state machine's Retry heals them), decided by a seeded hash of
//     (round, shard, attempt), so a run's faults repeat; "evaluate=permanent@<round>" fails every
//     attempt of round <round>'s tasks with an error no Retry matches.

import { createHash } from "node:crypto";

/** SIGKILLs the process if `spec` (ENKF_CRASH_AT's value) names this point (and match). */
export function crashPoint(spec: string | undefined, point: string, match?: string | number): void {
  if (!spec) return;
  const [p, m] = spec.split(/:(.*)/s, 2);
  if (p !== point) return;
  // a round must match exactly; a key matches by its ending ("state/000004.json")
  if (m !== undefined && m !== "") {
    if (match === undefined) return;
    if (typeof match === "number" ? String(match) !== m : !match.endsWith(m)) return;
  }
  process.kill(process.pid, "SIGKILL");
}

export interface FaultPlan {
  probability: number;
  seed: number;
  permanentRound?: number;
}

/** The evaluate faults `text` (ENKF_FAULTS's value) asks for, or null. */
export function faultPlan(text: string | undefined): FaultPlan | null {
  if (!text) return null;
  const fields = Object.fromEntries(text.split(",").map((f) => f.split("=", 2).map((s) => s.trim())));
  const ev = fields.evaluate;
  if (ev === undefined)
    throw new Error(`ENKF_FAULTS="${text}": name evaluate=<probability> or evaluate=permanent@<round>`);
  const seed = fields.seed === undefined ? 0 : Number(fields.seed);
  const permanent = /^permanent@(\d+)$/.exec(ev);
  if (permanent) return { probability: 0, seed, permanentRound: Number(permanent[1]) };
  const p = Number(ev);
  if (!(p >= 0 && p < 1) || !Number.isInteger(seed))
    throw new Error(`ENKF_FAULTS="${text}": the probability is in [0, 1) and the seed an integer`);
  return { probability: p, seed };
}

export type FaultKind = "transient" | "permanent" | null;

/** Whether attempt `attempt` of round `round`'s task for `shard` fails, and how. */
export function evaluateFault(plan: FaultPlan, round: number, shard: number, attempt: number): FaultKind {
  if (plan.permanentRound !== undefined) return round === plan.permanentRound ? "permanent" : null;
  const h = createHash("sha256").update(`${plan.seed}/${round}/${shard}/${attempt}`).digest();
  return h.readUInt32LE(0) / 2 ** 32 < plan.probability ? "transient" : null;
}
