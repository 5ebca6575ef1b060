// A cancelled job's partial result: the θ and history of its last completed round, laid out as
// result.json would hold them and marked `partial`, so /result, /theta.npy and /report can serve
// what the job reached instead of refusing.

import { getJson, type BlobStore } from "../store/blobStore.ts";
import { currentObjective } from "../enkf/process.ts";
import { keys, loadState, stateRounds } from "../workflow/jobStore.ts";

export interface PartialResult {
  doc: Record<string, unknown>;
  theta: Float64Array;
}

/** The last readable state's θ and history, or null when the job never completed a round. */
export async function partialResult(store: BlobStore): Promise<PartialResult | null> {
  for (const r of await stateRounds(store)) {
    let run;
    try {
      run = await loadState(store, r);
    } catch {
      continue; // a write cut short: the round before
    }
    const spec = (await getJson(store, keys.spec)) as { name: string };
    const state = run.process,
      history = state.progress.history;
    const last = history.at(-1);
    const doc = {
      name: spec.name,
      status: "cancelled",
      partial: true,
      message:
        `cancelled after ${history.length} iterations; a partial result: θ and history of the last ` +
        `completed iteration`,
      iterations: history.length,
      objective: currentObjective(state),
      evaluations: state.evaluations,
      seconds: last?.seconds ?? 0,
      metrics: {},
      files: { theta: keys.theta },
      environment: { engine: "workflow", rounds: r, ...(run.timings ? { timings: run.timings } : {}) },
      spec,
      history,
    };
    return { doc, theta: state.theta };
  }
  return null;
}
