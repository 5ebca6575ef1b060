// The state machine's task handlers, one per Task state: each parses its event with its own schema
// (events.ts), opens the job's store and calls its step (steps.ts). The Lambda entry points
// (functions/*.ts), the GPU container and the local engine (local/engine.ts) build them with
// workflowHandlers(); what differs between them (whether the GPU option is deployed, crash
// injection for tests, the worker's cache) is passed in.

import { INLINE_MAP_LIMIT, rolloverRounds } from "./definition.ts";
import { WorkerCache } from "../distributed/workerCache.ts";
import { openStore } from "../store/openStore.ts";
import { WorkflowError } from "./errors.ts";
import {
  Cursor,
  Failure,
  ItemTask,
  jobId,
  OutcomeEvent,
  parseEvent,
  Start,
  type ExecutionCursor,
  type JobRef,
} from "./events.ts";
import { onceWarner, type Worker } from "./fanOut.ts";
import { noCrash, type CrashHook } from "./hooks.ts";
import { recordFailure, recordOutcome, type JobOutcome } from "./outcome.ts";
import {
  combineStep,
  evaluateStep,
  finalizeStep,
  initStep,
  reduceStep,
  requestStep,
  resumePoint,
  storeStep,
  type RoundPoint,
} from "./steps.ts";

export type { ExecutionCursor, JobRef } from "./events.ts";
export { jobId, OutcomeEvent } from "./events.ts";

/** A round's objects: lost ones are recomputed (resume falls back to the last round that reads whole). */
const roundObject = (key: string) => key.startsWith("rounds/") || key.startsWith("state/");
const openJob = (job: JobRef, crash: CrashHook = noCrash) =>
  openStore(job.store, {
    endpoint: job.endpoint,
    recomputable: roundObject,
    ...(crash !== noCrash ? { afterBytes: (key: string) => crash("write", key) } : {}),
  });

/** The cursor's branch: above 40 items, data shards fan out through the Distributed Map. */
const branchOf = (p: RoundPoint): ExecutionCursor["branch"] =>
  (p.branch === "shards" || p.branch === "gpu") && p.items.length > INLINE_MAP_LIMIT
    ? `${p.branch}-distributed`
    : p.branch;

/** The cursor fields a step's round point sets. */
const cursorOf = (p: RoundPoint) => ({
  round: p.round,
  done: p.done,
  items: p.items,
  tree: p.tree,
  branch: branchOf(p),
  ...(p.iterations !== undefined ? { iterations: p.iterations } : {}),
  ...(p.objective !== undefined ? { objective: p.objective } : {}),
});

/** The execution input that continues an interrupted job from its last completed round
 *  (`Start?` sends it to Fan out, or to Finalize when that round ended the run);
 *  null when Init never finished, so the job starts over. */
export async function resumeInput(job: JobRef, rolloverEvery?: number): Promise<ExecutionCursor | null> {
  const worker: Worker = { cache: new WorkerCache(), warn: onceWarner(), crash: noCrash };
  const at = await resumePoint(openJob(job), worker);
  if (!at) return null;
  return {
    job: { ...job, id: jobId(job) },
    ...cursorOf(at),
    rollover: false,
    startRound: at.round,
    rolloverEvery: rolloverEvery ?? rolloverRounds(at.items.length, at.branch, at.tree),
    startedAt: Date.now(),
  };
}
const seconds = (startedAt: number) => (Date.now() - startedAt) / 1000;

export interface HandlerOptions {
  /** false where the deployment has no GPU option (no Batch branch) */
  gpuOption?: boolean;
  /** crash injection (tests only; local/faults.ts) */
  crash?: CrashHook;
  /** what the worker keeps between tasks (default: a new cache per set of handlers) */
  cache?: WorkerCache;
}

export type WorkflowHandlers = ReturnType<typeof workflowHandlers>;

/**
 * The handlers of one worker (a Lambda function's module, the GPU container, the local engine).
 *
 * @example
 * ```ts
 * export const handler = workflowHandlers({ gpuOption: false }).evaluate; // functions/evaluate.ts
 * ```
 */
export function workflowHandlers(opts: HandlerOptions = {}) {
  const crash = opts.crash ?? noCrash;
  const worker: Worker = { cache: opts.cache ?? new WorkerCache(), warn: onceWarner(), crash };
  const store = (job: JobRef) => openJob(job, crash);
  return {
    async init(event: unknown): Promise<ExecutionCursor> {
      const e = parseEvent(Start, event, "init");
      const at = await initStep(store(e.job), worker);
      // a deployment without the GPU option has no Batch branch (infra: -c gpu=true adds it)
      if (at.branch === "gpu" && opts.gpuOption === false)
        throw new WorkflowError(
          'compute.backend "gpu" needs the GPU option, which this deployment does not have: deploy ' +
            "with `npx cdk deploy -c gpu=true`, or choose another backend",
        );
      return {
        job: { ...e.job, id: jobId(e.job) },
        ...cursorOf(at),
        rollover: false,
        startRound: 0,
        rolloverEvery: e.rolloverEvery ?? rolloverRounds(at.items.length, at.branch, at.tree),
        startedAt: e.startedAt ?? Date.now(),
      };
    },
    /** An item's task: evaluate a shard or member block; on the lambda branch, a block's request
     *  and the store of the function's answer. */
    async evaluate(event: unknown): Promise<unknown> {
      const e = parseEvent(ItemTask, event, "evaluate");
      const s = store(e.job);
      const ref = { job: e.job, round: e.round, item: e.item };
      switch (e.op) {
        case "evaluate":
          await evaluateStep(s, e.round, e.item, worker);
          return ref;
        case "request":
          return { ...ref, request: await requestStep(s, e.round, e.item, worker) };
        case "store":
          await storeStep(s, e.round, e.item, e.outputs, worker);
          return ref;
        case "combine":
          await combineStep(s, e.round, e.level, e.item, worker);
          return ref;
      }
    },
    async reduce(event: unknown): Promise<ExecutionCursor> {
      const e = parseEvent(Cursor, event, "reduce");
      const next = cursorOf(await reduceStep(store(e.job), e.round, seconds(e.startedAt), worker));
      return { ...e, ...next, rollover: !next.done && next.round - e.startRound >= e.rolloverEvery };
    },
    async finalize(event: unknown): Promise<{ job: JobRef; status: string }> {
      const e = parseEvent(Cursor, event, "finalize");
      const r = await finalizeStep(store(e.job), e.round, seconds(e.startedAt), worker);
      return { job: e.job, status: r.status };
    },
    async recordFailure(event: unknown): Promise<{ job: JobRef; status: "failed" }> {
      const e = parseEvent(Failure, event, "failure");
      await recordFailure(store(e.job), e.error ?? {});
      return { job: e.job, status: "failed" };
    },
    /** The Outcome state without a service (enkf run's store): status and metrics, no promotion. */
    async outcome(event: unknown): Promise<JobOutcome & { job: JobRef }> {
      const e = parseEvent(OutcomeEvent, event, "outcome");
      return { job: e.job, ...(await recordOutcome(store(e.job), jobId(e.job), e.status)) };
    },
  };
}
