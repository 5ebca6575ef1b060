// The service's ports: the engine that runs prepared jobs and the scheduler that fires schedules.
// Locally these are the state machine in this process and timers (local/); on AWS, Step
// Functions and EventBridge Scheduler (stepFunctionsEngine.ts, eventBridgeScheduler.ts).

import type { JobRef } from "../workflow/events.ts";
import type { PromotionRule } from "../spec/api.ts";
import type { Dataset } from "../data/types.ts";
import type { JobSpec } from "../spec/job.ts";
import type { PlanEstimate } from "../plan/costModel.ts";
import type { CsvIngester } from "./csvUpload.ts";

/** Calibrates a network job's AWS estimate (shared/plan: planJob), here or on a thread of its own. */
export type Planner = (spec: JobSpec, dataset: Dataset, shards: number, memoryMb: number) => Promise<PlanEstimate>;

/** A place in an engine's queue, taken before a job is prepared and given back if it is not started. */
export interface Reservation {
  release(): void;
}

/** Runs prepared jobs: the local state machine, or Step Functions. */
export interface Engine {
  /** starts the job's execution (named after its id, so a repeat is harmless), taking its reservation */
  start(job: JobRef, reservation?: Reservation): Promise<void>;
  /** takes a place for a job (or a dry run) at once, or null when the engine is full (enkf
   *  serve's --max-jobs); an engine without a limit has no reserve */
  reserve?(): Reservation | null;
  /** why the job failed, when it has failed but its failure.json could not be written yet (a full
   *  disk); the engine keeps trying to write it */
  unrecordedFailure?(id: string): string | undefined;
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
  /** the hosts an http forward may name ("host" or "host:port"; none when absent) */
  forwardHosts?: readonly string[];
  /** the memory a job may need at its peak (shared/plan/memory.ts), with the evaluate threads
   *  each job runs: a job estimated above it is refused (enkf serve --memory); none on AWS */
  memory?: { budgetBytes: number; workers: number };
  /** streams CSV uploads into the store (default: csvUpload.ts's ingestCsv in this thread) */
  ingest?: CsvIngester;
  /** runs dry runs' calibrations (default: in this thread, as the Lambda API does: one request per instance) */
  planner?: Planner;
  /** lifetime of presigned URLs in seconds (default 900) */
  presignSeconds?: number;
  now?: () => number;
}
