// The service's ports: the engine that runs prepared jobs and the scheduler that fires schedules.
// Locally these are the state machine in this process and timers (local/); on AWS, Step
// Functions and EventBridge Scheduler (stepFunctionsEngine.ts, eventBridgeScheduler.ts).

import type { JobRef } from "../workflow/handlers.ts";
import type { PromotionRule } from "../spec/api.ts";

/** Runs prepared jobs: the local state machine, or Step Functions. */
export interface Engine {
  /** starts the job's execution (named after its id, so a repeat is harmless) */
  start(job: JobRef): Promise<void>;
  /** true when no more jobs may be queued (enkf serve's --max-jobs) */
  full?(): boolean;
  /** stops the job's execution if one runs (`execution`: the one that launched it, if not named
   *  after the job); completed rounds stay in its store */
  stop(id: string, execution?: string): Promise<void>;
}

/** Fires schedules: in-process timers, or EventBridge Scheduler. */
export interface Scheduler {
  /** whether rate(N seconds) is allowed (EventBridge's finest rate is a minute) */
  readonly allowSeconds: boolean;
  arm(schedule: ScheduleRecord): Promise<void>;
  disarm(id: string): Promise<void>;
}

export interface ScheduleRecord {
  id: string;
  name: string;
  expression: string;
  template: unknown;
  createdAt: string;
  /** retrain a model: promote each firing's job when it wins (api.ts PromotionRule) */
  promote?: PromotionRule;
}

export interface ServiceOptions {
  /** the service's store location: a directory or s3://bucket/prefix */
  location: string;
  endpoint?: string;
  engine: Engine;
  scheduler: Scheduler;
  /** training shards of each job unless its spec says compute.shards (default 4) */
  shards?: number;
  /** the Lambda functions a lambda forward may name: those the deployment's state machine may invoke */
  forwardFunctions?: readonly string[];
  /** lifetime of presigned URLs in seconds (default 900) */
  presignSeconds?: number;
  now?: () => number;
}
