// Speculation: a wrapper of the modified EnKF (modifiedEnkf.ts) that asks a round's worth at once,
// for the workflow, where every question costs a round of the state machine. Where the core asks
// Φ at one rung of a trial, the wrapper asks for every rung the search has left (single-member
// forwards, cheap next to the K + 1 of the statistics) and for the next iteration's statistics at
// one rung: the rung the previous accepted step took (the speculated rung). Its tell hands the
// rungs to the core one at a time, in order, as the core would have asked for them; when the core
// accepts at the speculated rung, the next iteration's statistics are already in and are told too.
// So an iteration costs one round, or two, and the core takes exactly the steps it takes alone:
// the same θ, Ω, batches and decisions, bit for bit. The core never knows: the wrapper reads only
// its asks (a trial's ladder and the σ each rung leads to) and its history.

import { trialPoint } from "../math/vector.ts";
import type { HistoryRow } from "./types.ts";
import type { Answer, Ask, EnkfState, ModifiedEnkf } from "./modifiedEnkf.ts";
import type { Told } from "./process.ts";

/** Where the previous accepted step was taken on its ladder (0 before any). */
function lastAcceptedRung(history: readonly HistoryRow[]): number {
  for (let i = history.length - 1; i >= 0; i--) if (history[i].accepted) return history[i].backtracks;
  return 0;
}

/**
 * The core with whole ladders and speculative statistics per ask.
 *
 * @example
 * ```ts
 * const rounds = speculative(modifiedEnkf(spec, stop));
 * const ask = rounds.ask(state)!; // with a pending trial: ask.trial.etas is the whole ladder,
 * ask.statistics;                 // true: the next iteration's statistics at ask.trial.statisticsRung
 * ```
 */
export function speculative(core: ModifiedEnkf): ModifiedEnkf {
  function ask(state: EnkfState): Ask | null {
    const a = core.ask(state);
    if (!a?.trial) return a;
    const { ladder, base, direction } = a.trial;
    const rung = Math.min(
      ladder.etas.length - 1,
      Math.max(0, lastAcceptedRung(state.progress.history) - state.pending!.backtracks),
    );
    const request = { iteration: a.trial.iteration + 1, sigma: ladder.sigmas[rung], attempt: 0 };
    return {
      ...request,
      point: trialPoint(base, direction, ladder.etas[rung]),
      draw: core.draw(request),
      statistics: true,
      trial: { ...a.trial, etas: ladder.etas, statisticsRung: rung },
    };
  }

  function tell(state: EnkfState, answer: Answer, elapsed: number): Told<EnkfState> {
    const asked = ask(state);
    const trial = asked?.trial;
    if (!asked || !trial) return core.tell(state, answer, elapsed);
    const phis = answer.trialPhis;
    if (!phis || phis.length !== trial.etas.length)
      throw new Error(
        `the answer for iteration ${trial.iteration} lacks the line-search values of its trial ` +
          `(${trial.etas.length} rungs)`,
      );
    let now = state;
    const records: HistoryRow[] = [];
    for (let j = 0; j < phis.length; j++) {
      const told = core.tell(now, { trialPhis: [phis[j]] }, elapsed);
      now = told.state;
      records.push(...told.records);
      if (told.records.length === 0) continue; // a backtrack: the next rung
      // the search ended at rung j; accepted at the speculated rung, the next statistics are in
      const hit = told.records[0].accepted && j === trial.statisticsRung;
      const next = hit ? core.ask(now) : null;
      if (next?.statistics && !next.trial) {
        if (!answer.stats)
          throw new Error(`the answer for iteration ${asked.iteration} lacks the ensemble statistics it asked for`);
        if (next.iteration !== asked.iteration || next.sigma !== asked.sigma || next.attempt !== 0)
          throw new Error(
            `speculated statistics for iteration ${asked.iteration} at σ ${asked.sigma}; the run asks ` +
              `for iteration ${next.iteration} at σ ${next.sigma}`,
          );
        const more = core.tell(now, { stats: answer.stats }, elapsed);
        return { state: more.state, records: [...records, ...more.records] };
      }
      return { state: now, records };
    }
    // the rungs asked for are spent and the search goes on: its next rung
    return { state: now, records };
  }

  return { method: core.method, draw: core.draw, init: core.init, ask, tell };
}
