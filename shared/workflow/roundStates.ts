// The states of one round of the job's state machine (definition.ts): the fan-out Map over shards or
// member blocks (inline up to INLINE_MAP_LIMIT items, a Distributed Map above), a lambda forward's
// block of three tasks, the GPU branch's Batch job, and the retry and failure rules the tasks share.

/** Shards above which a round fans out through the Distributed Map. */
export const INLINE_MAP_LIMIT = 40;

/** One round's fan-out: a task per item (a shard or member block, op "evaluate"); the shares go
 *  to the store, the cursor passes through. `states`: the iteration's states when it is more than
 *  the one task (a lambda forward's block). */
export function fanOut(
  evaluate: Record<string, unknown>,
  task: string,
  processor: Record<string, string>,
  concurrency: number,
  states?: Record<string, unknown>,
): Record<string, unknown> {
  return {
    Type: "Map",
    ItemsPath: "$.items",
    MaxConcurrency: concurrency,
    ItemSelector: { "job.$": "$.job", "round.$": "$.round", "item.$": "$$.Map.Item.Value", op: "evaluate" },
    ItemProcessor: {
      ProcessorConfig: processor,
      StartAt: task,
      States: states ?? { [task]: { Type: "Task", ...evaluate, End: true } },
    },
    ResultPath: null,
    Catch: toFailure,
    Next: "Combine?",
  };
}

/**
 * The reduction tree (../distributed/reductionTree.ts): its levels one after another (a Map over
 * the cursor's `tree` that runs one level at a time, in order), each level's nodes in parallel, a
 * task per node (op "combine": the sum of its children's partials, stored) on the evaluate function.
 */
export function combine(evaluate: Record<string, unknown>, concurrency: number): Record<string, unknown> {
  return {
    Type: "Map",
    ItemsPath: "$.tree",
    MaxConcurrency: 1,
    ItemSelector: {
      "job.$": "$.job",
      "round.$": "$.round",
      "level.$": "$$.Map.Item.Value.level",
      "nodes.$": "$$.Map.Item.Value.nodes",
    },
    ItemProcessor: {
      ProcessorConfig: { Mode: "INLINE" },
      StartAt: "Combine level",
      States: {
        "Combine level": {
          Type: "Map",
          ItemsPath: "$.nodes",
          MaxConcurrency: concurrency,
          ItemSelector: {
            "job.$": "$.job",
            "round.$": "$.round",
            "level.$": "$.level",
            "item.$": "$$.Map.Item.Value",
            op: "combine",
          },
          ItemProcessor: {
            ProcessorConfig: { Mode: "INLINE" },
            StartAt: "Sum partials",
            States: { "Sum partials": { Type: "Task", ...evaluate, End: true } },
          },
          End: true,
        },
      },
    },
    ResultPath: null,
    Catch: toFailure,
    Next: "Reduce",
  };
}

/**
 * A lambda forward's member block: the evaluate function writes the block's request (the
 * constrained points), the state machine invokes the user's function with it (lambda:invoke; the
 * role may invoke only the functions the deployment names), and the evaluate function stores the
 * answer. An invocation that keeps failing stores no outputs: its members are failed members,
 * under the job's failure policy, rather than a failed job.
 */
export function lambdaBlock(evaluate: Record<string, unknown>): Record<string, unknown> {
  const store = (outputs: string | null) => ({
    Type: "Task",
    ...evaluate,
    Parameters: {
      "job.$": "$.job",
      "round.$": "$.round",
      "item.$": "$.item",
      op: "store",
      ...(outputs ? { "outputs.$": outputs } : { outputs: null }),
    },
    End: true,
  });
  return {
    "Block request": {
      Type: "Task",
      ...evaluate,
      Parameters: { "job.$": "$.job", "round.$": "$.round", "item.$": "$.item", op: "request" },
      Next: "Forward (lambda)",
    },
    "Forward (lambda)": {
      Type: "Task",
      Resource: "arn:aws:states:::lambda:invoke",
      Parameters: { "FunctionName.$": "$.request.FunctionName", "Payload.$": "$.request.Payload" },
      ResultSelector: { "outputs.$": "$.Payload.outputs" },
      ResultPath: "$.response",
      Retry: retry,
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.forwardError", Next: "Store failed block" }],
      Next: "Store block",
    },
    "Store block": store("$.response.outputs"),
    "Store failed block": store(null),
  };
}

/** Lambda's transient errors: retried with exponential backoff and full jitter. */
export const retry = [
  {
    ErrorEquals: [
      "Lambda.TooManyRequestsException",
      "Lambda.ServiceException",
      "Lambda.AWSLambdaException",
      "Lambda.SdkClientException",
      "Lambda.ClientExecutionTimeoutException",
    ],
    IntervalSeconds: 1,
    MaxAttempts: 6,
    BackoffRate: 2,
    MaxDelaySeconds: 30,
    JitterStrategy: "FULL",
  },
];
/**
 * The GPU branch's task: an AWS Batch job per shard that runs the evaluate handler in the GPU
 * container (batchEvent.ts, functions/gpu/main.ts), the shard's event passed as ENKF_EVENT. `.sync` waits
 * for the job; the job definition retries Spot reclaims itself, and Step Functions retries Batch's
 * throttling and service errors.
 */
export function batchEvaluate(gpu: { jobQueue: string; jobDefinition: string }): Record<string, unknown> {
  return {
    Resource: "arn:aws:states:::batch:submitJob.sync",
    Parameters: {
      "JobName.$": "States.Format('enkf-round{}-shard{}', $.round, $.item)",
      JobQueue: gpu.jobQueue,
      JobDefinition: gpu.jobDefinition,
      ContainerOverrides: { Environment: [{ Name: "ENKF_EVENT", "Value.$": "States.JsonToString($)" }] },
    },
    ResultPath: null,
    Retry: [
      {
        ErrorEquals: ["Batch.AWSBatchException", "Batch.ServerException", "Batch.TooManyRequestsException"],
        IntervalSeconds: 2,
        MaxAttempts: 6,
        BackoffRate: 2,
        MaxDelaySeconds: 60,
        JitterStrategy: "FULL",
      },
    ],
  };
}

export const toFailure = [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "RecordFailure" }];
