// The service behind the HTTP API: jobs, datasets, schedules and models over one store (a directory or an
// S3 prefix), with an engine that runs jobs and a scheduler that fires schedules (ports.ts). Each
// concept has its module; this one wires them together. Errors are domain errors (errors.ts).

import { openStore } from "../store/openStore.ts";
import type { BlobStore } from "../store/blobStore.ts";
import type { JobRef } from "../workflow/events.ts";
import { DatasetService } from "./datasets.ts";
import { ingestCsv } from "./csvUpload.ts";
import { JobService } from "./jobs.ts";
import { launchJob } from "./launch.ts";
import type { ServiceOptions } from "./ports.ts";
import { ScheduleService } from "./schedules.ts";
import { ModelService } from "./models.ts";
import { jobOutcome } from "./outcome.ts";
import type { JobOutcome } from "../workflow/outcome.ts";

export class Service {
  readonly root: BlobStore;
  readonly jobs: JobService;
  readonly datasets: DatasetService;
  readonly schedules: ScheduleService;
  readonly models: ModelService;

  constructor(readonly opts: ServiceOptions) {
    const now = opts.now ?? Date.now;
    this.root = openStore(opts.location, { endpoint: opts.endpoint });
    this.datasets = new DatasetService(this.root, {
      location: opts.location,
      endpoint: opts.endpoint,
      now,
      presignSeconds: opts.presignSeconds ?? 900,
      ingest: opts.ingest ?? ingestCsv,
    });
    this.jobs = new JobService(opts, this.root, this.datasets, (name, field) => this.models.championJob(name, field));
    this.models = new ModelService(this.root, this.jobs, now);
    this.schedules = new ScheduleService(this.root, opts.scheduler, this.jobs, this.datasets, now);
  }

  /** The state machine's Outcome state (outcome.ts): the outcome, and the promotion a schedule asked for. */
  outcome(event: unknown): Promise<JobOutcome & { job: JobRef }> {
    return jobOutcome(this.jobs, this.models, event);
  }

  /** The state machine's Launch state (launch.ts). */
  launch(event: unknown): Promise<{ job: JobRef | null; duplicate: boolean }> {
    return launchJob(this.jobs, this.schedules, event);
  }
}
