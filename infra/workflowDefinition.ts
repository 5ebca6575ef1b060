// The job's state machine in Amazon States Language, one definition for both engines: the CDK app
// deploys it with the Lambda functions' ARNs, and `enkf` runs it locally (aws-local-stepfunctions)
// with the same states mapped to in-process handlers.
//
//   Init → Round (Map: Evaluate each shard) → Reduce → Done? ─ no → Round
//                                                         └ yes → Finalize
//   any failure → RecordFailure → Failed
//
// Every payload is the job cursor {job, round, shards, done, startedAt}: a few hundred bytes plus
// one integer per shard, whatever K, n or the data size. Statistics travel through the store.

export interface WorkflowResources {
  init: string;
  evaluate: string;
  reduce: string;
  finalize: string;
  recordFailure: string;
}

export interface WorkflowOptions {
  /** parallel Evaluate tasks (an inline Map runs at most 40 at a time) */
  maxConcurrency: number;
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
    StartAt: "Init",
    States: {
      Init: { Type: "Task", Resource: r.init, Retry: retry, Catch: toFailure, Next: "Round" },
      Round: {
        Type: "Map",
        ItemsPath: "$.shards",
        MaxConcurrency: opts.maxConcurrency,
        ItemSelector: { "job.$": "$.job", "round.$": "$.round", "shard.$": "$$.Map.Item.Value" },
        ItemProcessor: {
          ProcessorConfig: { Mode: "INLINE" },
          StartAt: "Evaluate",
          States: { Evaluate: { Type: "Task", Resource: r.evaluate, Retry: retry, End: true } },
        },
        // the partials are in the store; the cursor passes through unchanged
        ResultPath: null,
        Catch: toFailure,
        Next: "Reduce",
      },
      Reduce: { Type: "Task", Resource: r.reduce, Retry: retry, Catch: toFailure, Next: "Done?" },
      "Done?": { Type: "Choice", Choices: [{ Variable: "$.done", BooleanEquals: true, Next: "Finalize" }], Default: "Round" },
      Finalize: { Type: "Task", Resource: r.finalize, Retry: retry, Catch: toFailure, End: true },
      RecordFailure: { Type: "Task", Resource: r.recordFailure, Next: "Failed" },
      Failed: { Type: "Fail", Error: "JobFailed", Cause: "the job's failure.json in its store says why" },
    },
  };
}
