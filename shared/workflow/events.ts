// The state machine's payloads, one zod schema per operation: the execution's start, the cursor
// every round passes on, an item's task (a discriminated union on `op`: evaluate a shard or member
// block; a lambda forward's block request, or the store of its answer), the failure record and the
// outcome. Each handler parses its event with its schema and nothing else (handlers.ts).

import { z } from "zod";
import { WorkflowError } from "./errors.ts";

export const Job = z.strictObject({
  /** the job's id: names its executions (continue-as-new starts "<id>-r<round>"); Init fills it in */
  id: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .optional(),
  /** "s3://bucket/prefix" or a directory */
  store: z.string().min(1),
  /** an S3-compatible endpoint for s3:// stores */
  endpoint: z.string().url().optional(),
});

/** Which Round state runs a round's items (definition.ts's Fan out): data shards inline or through
 *  the Distributed Map (above 40), the same as AWS Batch jobs in the GPU container, or member blocks
 *  (a lambda forward's blocks invoke the user's function). */
export const BRANCHES = ["shards", "shards-distributed", "gpu", "gpu-distributed", "members", "lambda"] as const;
export const BranchName = z.enum(BRANCHES);

export const Cursor = z.object({
  job: Job,
  round: z.int().min(0),
  /** the round's items: shard or member block indices */
  items: z.array(z.int().min(0)).min(1),
  done: z.boolean(),
  branch: BranchName,
  /** the reduction tree's levels, in order (Combine: one task per node; empty or absent: none) */
  tree: z.array(z.object({ level: z.int().min(1), nodes: z.array(z.int().min(0)).min(1) })).optional(),
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

export const Start = z.object({ job: Job, startedAt: z.number().optional(), rolloverEvery: z.int().min(1).optional() });

const item = { job: Job, round: z.int().min(0), item: z.int().min(0) };
export const ItemTask = z.discriminatedUnion("op", [
  /** evaluate the item's share of the round (a data shard, or a member block's forward) */
  z.object({ op: z.literal("evaluate"), ...item }),
  /** a lambda forward's block: the request the state machine sends the user's function */
  z.object({ op: z.literal("request"), ...item }),
  /** a lambda forward's block: its answer to store (null when the invocation failed: the block's
   *  members are failed members) */
  z.object({ op: z.literal("store"), ...item, outputs: z.unknown() }),
  /** sum node `item` of level `level` of the round's reduction tree */
  z.object({ op: z.literal("combine"), ...item, level: z.int().min(1) }),
]);

export const Failure = z.object({
  job: Job,
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});

/** Finalize's or RecordFailure's output */
export const OutcomeEvent = z.object({ job: Job, status: z.string() });

/**
 * The event parsed by its schema, or a WorkflowError whose one line names each wrong field.
 *
 * @example
 * ```ts
 * const e = parseEvent(ItemTask, event, "evaluate"); // e.op: "evaluate" | "request" | "store"
 * ```
 */
export function parseEvent<T extends z.ZodType>(schema: T, event: unknown, what: string): z.infer<T> {
  const r = schema.safeParse(event);
  if (r.success) return r.data;
  const fields = r.error.issues.map((i) => `${i.path.join(".") || "(event)"}: ${i.message}`).join("; ");
  throw new WorkflowError(`the ${what} event is invalid: ${fields}`);
}

export type JobRef = z.infer<typeof Job>;

/** A job without an id is named after its store's last path part (an execution-name-safe form). */
export function jobId(job: JobRef): string {
  if (job.id) return job.id;
  const base = job.store.replace(/\/+$/, "").split(/[\\/]/).pop() ?? "";
  return base.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 64) || "job";
}
export type ExecutionCursor = z.infer<typeof Cursor>;
export type ItemEvent = z.infer<typeof ItemTask>;
