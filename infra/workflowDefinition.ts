// The job's state machine in Amazon States Language, one definition for both engines: the CDK app
// deploys it with the Lambda functions' ARNs, and `enkf` runs it locally (aws-local-stepfunctions)
// with the same states mapped to in-process handlers.
//
//   Start? ─ new job → Init ─┐
//          └ continued ──────┴→ Fan out → Round (Map: Evaluate each shard; a Distributed Map
//                                 above 40 shards) → Reduce → Next?
//   Next? ─ done → Finalize;  rollover → Rollover (start a fresh execution of this machine with
//           the cursor, then end);  otherwise → Round
//   any failure → RecordFailure → Failed
//
// Every payload is the job cursor {job, round, shards, done, rollover, startRound, rolloverEvery,
// startedAt}: a few hundred bytes plus one integer per shard, whatever K, n or the data size.
// Statistics travel through the store.
//
// Continue-as-new: an execution's history is capped at 25,000 events. A round costs about
// 7·S + 11 events for S shards (per shard: the Map iteration's start and end, and the Evaluate
// task's entered, scheduled, started, succeeded and exited; per round: the Map's 4, Reduce's 5
// and the Choice's 2), so the reducer hands over to a fresh execution every
// N = ⌊24,000 / (7·S + 11)⌋ rounds (rolloverRounds), leaving 1,000 events for Init, Finalize and
// retries: N = 2,181 rounds for 1 shard, 564 for 4, 82 for 40.

/** Rounds per execution for S shards (see the header). */
export function rolloverRounds(shards: number): number {
  return Math.max(1, Math.floor(24_000 / (7 * shards + 11)));
}

export interface WorkflowResources {
  init: string;
  evaluate: string;
  reduce: string;
  finalize: string;
  recordFailure: string;
}

export interface WorkflowOptions {
  /** parallel Evaluate tasks of the inline Map (at most 40) */
  maxConcurrency: number;
  /** parallel child executions of the Distributed Map, used above 40 shards (default 1000) */
  distributedConcurrency?: number;
}

/** Shards above which a round fans out through the Distributed Map. */
export const INLINE_MAP_LIMIT = 40;

/** One round's fan-out: an Evaluate task per shard; the partials go to the store, the cursor passes through. */
function fanOut(evaluate: string, task: string, processor: Record<string, string>, concurrency: number): Record<string, unknown> {
  return {
    Type: "Map",
    ItemsPath: "$.shards",
    MaxConcurrency: concurrency,
    ItemSelector: { "job.$": "$.job", "round.$": "$.round", "shard.$": "$$.Map.Item.Value" },
    ItemProcessor: {
      ProcessorConfig: processor,
      StartAt: task,
      States: { [task]: { Type: "Task", Resource: evaluate, Retry: retry, End: true } },
    },
    ResultPath: null,
    Catch: toFailure,
    Next: "Reduce",
  };
}

/** Lambda's transient errors: retried with exponential backoff and full jitter. */
const retry = [{
  ErrorEquals: ["Lambda.TooManyRequestsException", "Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.ClientExecutionTimeoutException"],
  IntervalSeconds: 1,
  MaxAttempts: 6,
  BackoffRate: 2,
  MaxDelaySeconds: 30,
  JitterStrategy: "FULL",
}];
const toFailure = [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "RecordFailure" }];

export function workflowDefinition(r: WorkflowResources, opts: WorkflowOptions): Record<string, unknown> {
  if (!Number.isInteger(opts.maxConcurrency) || opts.maxConcurrency < 1 || opts.maxConcurrency > 40) throw new RangeError(`maxConcurrency ${opts.maxConcurrency}: an inline Map runs 1 to 40 iterations at a time`);
  return {
    Comment: "A modified-EnKF job: each round evaluates every data shard in parallel, then the reducer updates θ and decides whether to loop.",
    StartAt: "Start?",
    States: {
      "Start?": { Type: "Choice", Choices: [{ Variable: "$.round", IsPresent: true, Next: "Fan out" }], Default: "Init" },
      Init: { Type: "Task", Resource: r.init, Retry: retry, Catch: toFailure, Next: "Fan out" },
      // up to 40 shards an inline Map; above that a Distributed Map, whose iterations run as child
      // executions and so stay out of this execution's event history
      "Fan out": { Type: "Choice", Choices: [{ Variable: "$.distributed", BooleanEquals: true, Next: "Round (distributed)" }], Default: "Round" },
      // state names are unique across the machine, so the two Maps' tasks are named apart
      Round: fanOut(r.evaluate, "Evaluate", { Mode: "INLINE" }, opts.maxConcurrency),
      "Round (distributed)": fanOut(r.evaluate, "Evaluate (distributed)", { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" }, opts.distributedConcurrency ?? 1000),
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
          Input: {
            "job.$": "$.job", "round.$": "$.round", "shards.$": "$.shards", "distributed.$": "$.distributed", done: false, rollover: false,
            "startRound.$": "$.round", "rolloverEvery.$": "$.rolloverEvery", "startedAt.$": "$.startedAt",
            "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id",
          },
        },
        Retry: [{ ErrorEquals: ["StepFunctions.ExecutionLimitExceededException", "StepFunctions.SdkClientException"], IntervalSeconds: 1, MaxAttempts: 6, BackoffRate: 2, JitterStrategy: "FULL" }],
        Catch: toFailure,
        End: true,
      },
      Finalize: { Type: "Task", Resource: r.finalize, Retry: retry, Catch: toFailure, End: true },
      RecordFailure: { Type: "Task", Resource: r.recordFailure, Next: "Failed" },
      Failed: { Type: "Fail", Error: "JobFailed", Cause: "the job's failure.json in its store says why" },
    },
  };
}
