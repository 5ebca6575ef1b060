// The state machine's task handlers, one per Task state: each parses its payload (zod), opens the
// job's store and calls its step (steps.ts). The Lambda entry points (functions/*.ts), the GPU
// container and the local engine (local/engine.ts) build them with workflowHandlers(); what
// differs between them (whether the GPU option is deployed, crash injection for tests) is passed in.

import { z } from "zod";
import { INLINE_MAP_LIMIT, rolloverRounds } from "./definition.ts";
import { openStore } from "../store/openStore.ts";
import { evaluateStep, finalizeJob, initJob, recordFailure, recordOutcome, reduceStep, resumePoint, shardItems, WorkflowError, type JobOutcome } from "./steps.ts";
import { blockRequest, evaluateBlockStep, finalizeMembers, initMembers, isMemberJob, memberItems, reduceMembersStep, storeBlock } from "./memberSteps.ts";
import { noCrash, type CrashHook } from "./hooks.ts";

const Job = z.strictObject({
  /** the job's id: names its executions (continue-as-new starts "<id>-r<round>"); Init fills it in */
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional(),
  /** "s3://bucket/prefix" or a directory */
  store: z.string().min(1),
  /** an S3-compatible endpoint for s3:// stores */
  endpoint: z.string().url().optional(),
});
const Cursor = z.object({
  job: Job,
  round: z.int().min(0),
  /** the round's items: data shards, or an inverse job's member blocks */
  shards: z.array(z.int().min(0)).min(1),
  done: z.boolean(),
  /** an inverse job (the member branch), and whether its forward is a Lambda function the machine invokes */
  members: z.boolean().default(false),
  lambda: z.boolean().default(false),
  /** fan out through the Distributed Map (more than 40 shards) */
  distributed: z.boolean(),
  /** fan out as AWS Batch jobs in the GPU container (compute.backend "gpu") */
  gpu: z.boolean(),
  /** hand over to a fresh execution now (continue-as-new) */
  rollover: z.boolean(),
  /** the round this execution started with, and how many rounds an execution runs */
  startRound: z.int().min(0),
  rolloverEvery: z.int().min(1),
  startedAt: z.number(),
  /** progress: iterations finished and the last Φ */
  iterations: z.int().min(0).optional(),
  objective: z.number().optional(),
});
const Start = z.object({ job: Job, startedAt: z.number().optional(), rolloverEvery: z.int().min(1).optional() });
const Shard = z.object({ job: Job, round: z.int().min(0), shard: z.int().min(0) });
/** a member block's task; `request`: a lambda forward's request; `outputs`: its answer to store
 *  (null when the invocation failed: the block's members are failed members) */
const Block = z.object({ job: Job, round: z.int().min(0), block: z.int().min(0), request: z.literal(true).optional(), outputs: z.unknown().optional() });
const Failure = z.object({ job: Job, error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional() });
/** Finalize's or RecordFailure's output */
export const OutcomeEvent = z.object({ job: Job, status: z.string() });

export type ExecutionCursor = z.infer<typeof Cursor>;
export type JobRef = z.infer<typeof Job>;

/** A round's objects: lost ones are recomputed (resume falls back to the last round that reads whole). */
const roundObject = (key: string) => key.startsWith("rounds/") || key.startsWith("state/");
const openJob = (job: JobRef, crash: CrashHook = noCrash) => openStore(job.store, {
  endpoint: job.endpoint, recomputable: roundObject, ...(crash !== noCrash ? { afterBytes: (key: string) => crash("write", key) } : {}),
});

/** A job without an id is named after its store's last path part (an execution-name-safe form). */
export function jobId(job: JobRef): string {
  if (job.id) return job.id;
  const base = job.store.replace(/\/+$/, "").split(/[\\/]/).pop() ?? "";
  return base.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 64) || "job";
}

/** The execution input that continues an interrupted job from its last completed round
 *  (`Start?` sends it to Fan out, or to Finalize when that round ended the optimization);
 *  null when Init never finished, so the job starts over. */
export async function resumeInput(job: JobRef, rolloverEvery?: number): Promise<ExecutionCursor | null> {
  const store = openJob(job);
  const at = await resumePoint(store, async () => ((await isMemberJob(store)) ? memberItems(store) : shardItems(store)));
  if (!at) return null;
  return {
    job: { ...job, id: jobId(job) }, ...at, distributed: at.shards.length > INLINE_MAP_LIMIT, rollover: false,
    startRound: at.round, rolloverEvery: rolloverEvery ?? rolloverRounds(at.shards.length, at.gpu, at.lambda), startedAt: Date.now(),
  };
}
const seconds = (startedAt: number) => (Date.now() - startedAt) / 1000;

export interface HandlerOptions {
  /** false where the deployment has no GPU option (no Batch branch) */
  gpuOption?: boolean;
  /** crash injection (tests only; local/faults.ts) */
  crash?: CrashHook;
}

export type WorkflowHandlers = ReturnType<typeof workflowHandlers>;

export function workflowHandlers(opts: HandlerOptions = {}) {
  const crash = opts.crash ?? noCrash;
  const store = (job: JobRef) => openJob(job, crash);
  return {
    async init(event: unknown): Promise<ExecutionCursor> {
      const e = Start.parse(event);
      const s = store(e.job);
      const cursor = (await isMemberJob(s)) ? await initMembers(s) : await initJob(s);
      // a deployment without the GPU option has no Batch branch (infra: -c gpu=true adds it)
      if (cursor.gpu && opts.gpuOption === false) throw new WorkflowError('compute.backend "gpu" needs the GPU option, which this deployment does not have: deploy with `npx cdk deploy -c gpu=true`, or choose another backend');
      return { job: { ...e.job, id: jobId(e.job) }, ...cursor, distributed: cursor.shards.length > INLINE_MAP_LIMIT, rollover: false, startRound: 0, rolloverEvery: e.rolloverEvery ?? rolloverRounds(cursor.shards.length, cursor.gpu, cursor.lambda), startedAt: e.startedAt ?? Date.now() };
    },
    /** A data shard's task, or a member block's (an event with `block`: its evaluation, or on the
     *  lambda branch its request and the store of the function's answer). */
    async evaluate(event: unknown): Promise<unknown> {
      if (typeof event === "object" && event !== null && "block" in event) {
        const e = Block.parse(event);
        if (e.request) return { job: e.job, round: e.round, block: e.block, request: await blockRequest(store(e.job), e.round, e.block) };
        if ("outputs" in e) return storeBlock(store(e.job), e.round, e.block, e.outputs);
        return evaluateBlockStep(store(e.job), e.round, e.block, { crash });
      }
      const e = Shard.parse(event);
      return evaluateStep(store(e.job), e.round, e.shard, { crash });
    },
    async reduce(event: unknown): Promise<ExecutionCursor> {
      const e = Cursor.parse(event);
      const next = e.members ? await reduceMembersStep(store(e.job), e.round, seconds(e.startedAt), crash) : await reduceStep(store(e.job), e.round, e.shards.length, seconds(e.startedAt), crash);
      return { ...e, ...next, rollover: !next.done && next.round - e.startRound >= e.rolloverEvery };
    },
    async finalize(event: unknown): Promise<{ job: JobRef; status: string }> {
      const e = Cursor.parse(event);
      const r = e.members ? await finalizeMembers(store(e.job), e.round, seconds(e.startedAt)) : await finalizeJob(store(e.job), e.round, seconds(e.startedAt), crash);
      return { job: e.job, status: r.status };
    },
    async recordFailure(event: unknown): Promise<{ job: JobRef; status: "failed" }> {
      const e = Failure.parse(event);
      await recordFailure(store(e.job), e.error ?? {});
      return { job: e.job, status: "failed" };
    },
    /** The Outcome state without a service (enkf run's store): status and metrics, no promotion. */
    async outcome(event: unknown): Promise<JobOutcome & { job: JobRef }> {
      const e = OutcomeEvent.parse(event);
      return { job: e.job, ...(await recordOutcome(store(e.job), jobId(e.job), e.status)) };
    },
  };
}
