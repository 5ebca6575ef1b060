// The job's state machine in Amazon States Language, one definition for both engines: the CDK app
// deploys it with the Lambda functions' ARNs, and `enkf` runs it locally (aws-local-stepfunctions)
// with the same states mapped to in-process handlers.
//
//   Start? ─ new job → Init ─┐
//          ├ a schedule's firing → Launch (create and prepare the job) → Launched? → Init,
//          │                        or Duplicate firing (that firing's job exists) → end
//          ├ resumed, done → Finalize
//          └ continued ──────┴→ Fan out → Round (Map: Evaluate each shard; a Distributed Map
//                                 above 40 shards) → Reduce → Next?
//   Fan out ─ compute.backend "gpu" → Round (gpu) (Map: an AWS Batch job per shard, the evaluate
//             handler in the GPU container; a Distributed Map above 40 shards) → Reduce
//           ├ an inverse job → Round (members) (Map: Evaluate members, one task per member block:
//           │  θ, its K members and the line search's rungs, cut into blocks) → Reduce
//           └ its forward a Lambda function → Round (members, lambda) (Map per block: Block request
//              → Forward (lambda), the user's function invoked → Store block) → Reduce
//   Round ─ more shards than the reduction's fan-in → Combine (the reduction tree's levels in order,
//           each a Map of Sum partials tasks, one per node) → Reduce;  otherwise → Reduce
//   Next? ─ done → Finalize;  rollover → Rollover (start a fresh execution of this machine with
//           the cursor, then end);  otherwise → Round
//   Finalize, or any failure → RecordFailure, → Outcome (status and metrics; the service promotes
//   a scheduled job to its model's champion when it wins) → Publish outcome (an EventBridge event,
//   detail-type "enkf job outcome") → Ended? → Done, or Failed
//
// Every payload is the job cursor {job, round, items, done, branch, rollover, startRound,
// rolloverEvery, startedAt} (events.ts): a few hundred bytes plus one integer per item, whatever K,
// n or the data size. Statistics travel through the store.
//
// Continue-as-new: an execution's history is capped at 25,000 events. A round costs about
// 7·S + 11 events for S shards (per shard: the Map iteration's start and end, and the Evaluate
// task's entered, scheduled, started, succeeded and exited; per round: the Map's 4, Reduce's 5
// and the Choice's 2), so the reducer hands over to a fresh execution every
// N = ⌊24,000 / (7·S + 11)⌋ rounds (rolloverRounds), leaving 1,000 events for Init, Finalize and
// retries: N = 2,181 rounds for 1 shard, 564 for 4, 82 for 40. A Batch task (`submitJob.sync`)
// adds a TaskSubmitted event, 8·S + 11 per round: N = 558 rounds for 4 shards on the GPU branch.
// A reduction tree adds 7 events per node and 6 per level (roundEvents).

import type { Branch } from "./fanOut.ts";
import type { TreeLevel } from "../distributed/reductionTree.ts";
import { batchEvaluate, combine, fanOut, lambdaBlock, retry, toFailure } from "./roundStates.ts";

export { INLINE_MAP_LIMIT } from "./roundStates.ts";

/** The outcome event's source and detail-type (an EventBridge rule matches on them). */
export const OUTCOME_SOURCE = "enkf";
export const OUTCOME_DETAIL_TYPE = "enkf job outcome";

/** Events one round costs for S items on a branch: 7 per shard or member block (8 for a Batch
 *  job, 17 for a lambda forward's block: its iteration's 2 and three tasks' 5 each) and 11 per
 *  round; a reduction tree adds 7 per node, 6 per level and 6 for its Map and Choice. */
export const roundEvents = (items: number, branch: Branch = "shards", tree: readonly TreeLevel[] = []) =>
  (branch === "lambda" ? 17 : branch === "gpu" ? 8 : 7) * items +
  11 +
  (tree.length > 0 ? 6 + tree.reduce((n, l) => n + 7 * l.nodes.length + 6, 0) : 0);

/** Rounds per execution for S items (see the header). */
export function rolloverRounds(items: number, branch: Branch = "shards", tree: readonly TreeLevel[] = []): number {
  return Math.max(1, Math.floor(24_000 / roundEvents(items, branch, tree)));
}

export interface WorkflowResources {
  /** creates a scheduled firing's job (EventBridge Scheduler starts the machine with {launch}) */
  launch: string;
  init: string;
  evaluate: string;
  reduce: string;
  finalize: string;
  recordFailure: string;
  /** the job's outcome and promotion (the service's outcome handler) */
  outcome: string;
  /** the EventBridge bus the outcome is published on (a name or ARN) */
  eventBus: string;
  /** the GPU option: the AWS Batch job queue and job definition whose container runs evaluate */
  gpu?: { jobQueue: string; jobDefinition: string };
}

export interface WorkflowOptions {
  /** parallel Evaluate tasks of the inline Map (at most 40) */
  maxConcurrency: number;
  /** parallel child executions of the Distributed Map, used above 40 shards (default 1000) */
  distributedConcurrency?: number;
}

export function workflowDefinition(r: WorkflowResources, opts: WorkflowOptions): Record<string, unknown> {
  if (!Number.isInteger(opts.maxConcurrency) || opts.maxConcurrency < 1 || opts.maxConcurrency > 40)
    throw new RangeError(`maxConcurrency ${opts.maxConcurrency}: an inline Map runs 1 to 40 iterations at a time`);
  const lambdaEvaluate = { Resource: r.evaluate, Retry: retry };
  const gpu = r.gpu ? batchEvaluate(r.gpu) : null;
  return {
    Comment:
      "A modified-EnKF job: each round evaluates every data shard in parallel, then the reducer " +
      "updates θ and decides whether to loop.",
    StartAt: "Start?",
    States: {
      // a resumed job whose last round finished the optimization goes straight to Finalize
      "Start?": {
        Type: "Choice",
        Choices: [
          { Variable: "$.launch", IsPresent: true, Next: "Launch" },
          {
            And: [
              { Variable: "$.round", IsPresent: true },
              { Variable: "$.done", BooleanEquals: true },
            ],
            Next: "Finalize",
          },
          { Variable: "$.round", IsPresent: true, Next: "Fan out" },
        ],
        Default: "Init",
      },
      // the firing's job does not exist yet, so a failure here has no store to be recorded in
      Launch: {
        Type: "Task",
        Resource: r.launch,
        Parameters: { "launch.$": "$.launch", "execution.$": "$$.Execution.Id" },
        Retry: retry,
        Next: "Launched?",
      },
      "Launched?": {
        Type: "Choice",
        Choices: [{ Variable: "$.duplicate", BooleanEquals: true, Next: "Duplicate firing" }],
        Default: "Init",
      },
      "Duplicate firing": {
        Type: "Succeed",
        Comment: "a retried firing: its job was launched by an earlier execution",
      },
      Init: { Type: "Task", Resource: r.init, Retry: retry, Catch: toFailure, Next: "Fan out" },
      // up to 40 shards an inline Map; above that a Distributed Map, whose iterations run as child
      // executions and so stay out of this execution's event history
      "Fan out": {
        Type: "Choice",
        Choices: [
          { Variable: "$.branch", StringEquals: "members", Next: "Round (members)" },
          { Variable: "$.branch", StringEquals: "lambda", Next: "Round (members, lambda)" },
          ...(gpu
            ? [
                { Variable: "$.branch", StringEquals: "gpu", Next: "Round (gpu)" },
                { Variable: "$.branch", StringEquals: "gpu-distributed", Next: "Round (gpu, distributed)" },
              ]
            : []),
          { Variable: "$.branch", StringEquals: "shards-distributed", Next: "Round (distributed)" },
        ],
        Default: "Round",
      },
      // state names are unique across the machine, so the Maps' tasks are named apart
      Round: fanOut(lambdaEvaluate, "Evaluate", { Mode: "INLINE" }, opts.maxConcurrency),
      "Round (distributed)": fanOut(
        lambdaEvaluate,
        "Evaluate (distributed)",
        { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" },
        opts.distributedConcurrency ?? 1000,
      ),
      "Round (members)": fanOut(lambdaEvaluate, "Evaluate members", { Mode: "INLINE" }, opts.maxConcurrency),
      "Round (members, lambda)": fanOut(
        lambdaEvaluate,
        "Block request",
        { Mode: "INLINE" },
        opts.maxConcurrency,
        lambdaBlock(lambdaEvaluate),
      ),
      ...(gpu
        ? {
            "Round (gpu)": fanOut(gpu, "Evaluate (gpu)", { Mode: "INLINE" }, opts.maxConcurrency),
            "Round (gpu, distributed)": fanOut(
              gpu,
              "Evaluate (gpu, distributed)",
              { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" },
              opts.distributedConcurrency ?? 1000,
            ),
          }
        : {}),
      "Combine?": {
        Type: "Choice",
        Choices: [{ Variable: "$.tree[0]", IsPresent: true, Next: "Combine" }],
        Default: "Reduce",
      },
      Combine: combine(lambdaEvaluate, opts.maxConcurrency),
      Reduce: { Type: "Task", Resource: r.reduce, Retry: retry, Catch: toFailure, Next: "Next?" },
      "Next?": {
        Type: "Choice",
        Choices: [
          { Variable: "$.done", BooleanEquals: true, Next: "Finalize" },
          { Variable: "$.rollover", BooleanEquals: true, Next: "Rollover" },
        ],
        Default: "Fan out",
      },
      Rollover: {
        Type: "Task",
        Resource: "arn:aws:states:::states:startExecution",
        Parameters: {
          "StateMachineArn.$": "$$.StateMachine.Id",
          // named for the job and round, so the service finds (and can stop) a job's current execution
          "Name.$": "States.Format('{}-r{}', $.job.id, $.round)",
          Input: {
            "job.$": "$.job",
            "round.$": "$.round",
            "items.$": "$.items",
            "branch.$": "$.branch",
            "tree.$": "$.tree",
            done: false,
            rollover: false,
            "startRound.$": "$.round",
            "rolloverEvery.$": "$.rolloverEvery",
            "startedAt.$": "$.startedAt",
            "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id",
          },
        },
        Retry: [
          {
            ErrorEquals: ["StepFunctions.ExecutionLimitExceededException", "StepFunctions.SdkClientException"],
            IntervalSeconds: 1,
            MaxAttempts: 6,
            BackoffRate: 2,
            JitterStrategy: "FULL",
          },
        ],
        Catch: toFailure,
        End: true,
      },
      Finalize: { Type: "Task", Resource: r.finalize, Retry: retry, Catch: toFailure, Next: "Outcome" },
      RecordFailure: { Type: "Task", Resource: r.recordFailure, Next: "Outcome" },
      // the job has ended either way; a failure from here on is the outcome's, never the job's
      Outcome: {
        Type: "Task",
        Resource: r.outcome,
        Retry: retry,
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "Outcome failed" }],
        Next: "Publish outcome",
      },
      "Publish outcome": {
        Type: "Task",
        Resource: "arn:aws:states:::events:putEvents",
        Parameters: {
          Entries: [
            { "Detail.$": "$", DetailType: OUTCOME_DETAIL_TYPE, Source: OUTCOME_SOURCE, EventBusName: r.eventBus },
          ],
        },
        ResultPath: null,
        Retry: [
          {
            ErrorEquals: [
              "EventBridge.EventBridgeException",
              "EventBridge.InternalException",
              "EventBridge.SdkClientException",
              "States.Timeout",
            ],
            IntervalSeconds: 1,
            MaxAttempts: 4,
            BackoffRate: 2,
            JitterStrategy: "FULL",
          },
        ],
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.publishError", Next: "Ended?" }],
        Next: "Ended?",
      },
      "Ended?": {
        Type: "Choice",
        Choices: [{ Variable: "$.status", StringEquals: "failed", Next: "Failed" }],
        Default: "Done",
      },
      Done: { Type: "Succeed" },
      "Outcome failed": {
        Type: "Fail",
        Error: "OutcomeFailed",
        Cause: "the job ended, but recording its outcome or promoting it failed: see the execution's Outcome state",
      },
      Failed: { Type: "Fail", Error: "JobFailed", Cause: "the job's failure.json in its store says why" },
    },
  };
}
