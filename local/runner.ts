// The local server's engine: runs prepared jobs through the local state machine
// (engine.ts), a few at a time, first come first served. A stopped server leaves its jobs
// resumable: on start the server hands them back here, and each continues from its last
// completed round (runLocalWorkflow's resume), so its θ is the uninterrupted run's.

import { availableParallelism } from "node:os";
import { openStore } from "../shared/store/openStore.ts";
import { recordFailure, storageFullCause } from "../shared/workflow/outcome.ts";
import { preparedJob } from "../shared/workflow/workflowJob.ts";
import type { JobRef } from "../shared/workflow/events.ts";
import { CancelledError, runLocalWorkflow } from "./engine.ts";
import type { Engine, Reservation } from "../shared/service/ports.ts";
import { StoreFullError, type BlobStore } from "../shared/store/blobStore.ts";

/** How often a failure that could not be written is tried again. */
const RECORD_RETRY_MS = 2_000;

/** The error's message, or the full store's anywhere in its causes: what a user needs to know. */
function reasonOf(e: unknown): { Error: string; Cause: string } {
  for (let c: unknown = e; c instanceof Error; c = c.cause) {
    if (c instanceof StoreFullError) return { Error: "StorageFull", Cause: storageFullCause(c.message) };
  }
  return { Error: (e as Error).name ?? "Error", Cause: (e as Error).message ?? String(e) };
}

export interface LocalRunnerOptions {
  /** jobs run at once (default 1) */
  concurrency?: number;
  /** worker threads per job for the evaluate tasks (default: the cores over the concurrency) */
  workers?: number;
  /** jobs queued, running or being submitted (and dry runs) at most; more are refused (default 32) */
  maxJobs?: number;
  /** a line per job event (started, finished, failed) */
  log?: (line: string) => void;
  /** the Outcome state's handler (the service's, which promotes) */
  outcome?: (event: unknown) => Promise<unknown>;
  /** the outcome event's detail (Publish outcome) */
  publish?: (detail: unknown) => void | Promise<void>;
}

export class LocalRunner implements Engine {
  private readonly queue: JobRef[] = [];
  private readonly running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private closed = false;
  /** places taken by submissions being prepared and by dry runs */
  private reserved = 0;
  /** failures whose failure.json could not be written yet, with the store to write them to */
  private readonly unrecorded = new Map<string, { store: BlobStore; reason: { Error: string; Cause: string } }>();
  private retry: NodeJS.Timeout | undefined;
  private readonly concurrency: number;
  /** evaluate threads each job runs */
  readonly workers: number;

  constructor(private readonly opts: LocalRunnerOptions = {}) {
    this.concurrency = Math.max(1, opts.concurrency ?? 1);
    this.workers = opts.workers ?? Math.max(1, Math.floor(availableParallelism() / this.concurrency));
  }

  async start(job: JobRef, reservation?: Reservation): Promise<void> {
    reservation?.release();
    const id = job.id!;
    if (this.closed || this.running.has(id) || this.queue.some((j) => j.id === id)) return;
    this.queue.push(job);
    this.pump();
  }

  /** A place for one more job (or a dry run), taken at once: --max-jobs holds however many ask together. */
  reserve(): Reservation | null {
    if (this.closed || this.active + this.reserved >= (this.opts.maxJobs ?? 32)) return null;
    this.reserved++;
    let held = true;
    return {
      release: () => {
        if (held) {
          held = false;
          this.reserved--;
        }
      },
    };
  }

  async stop(id: string): Promise<void> {
    const q = this.queue.findIndex((j) => j.id === id);
    if (q >= 0) this.queue.splice(q, 1);
    const r = this.running.get(id);
    if (r) {
      r.abort.abort();
      await r.done;
    }
  }

  unrecordedFailure(id: string): string | undefined {
    return this.unrecorded.get(id)?.reason.Cause;
  }

  /** Jobs queued or running. */
  get active(): number {
    return this.queue.length + this.running.size;
  }

  /** Resolves once nothing is queued or running. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()].map((r) => r.done));
  }

  /** Stops every job where it is (they stay resumable) and takes no more. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.retry);
    this.queue.length = 0;
    for (const r of this.running.values()) r.abort.abort();
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  private pump(): void {
    while (!this.closed && this.running.size < this.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      const abort = new AbortController();
      const done = this.run(job, abort.signal).finally(() => {
        this.running.delete(job.id!);
        this.pump();
      });
      this.running.set(job.id!, { abort, done });
    }
  }

  private async run(job: JobRef, signal: AbortSignal): Promise<void> {
    const log = this.opts.log ?? (() => undefined);
    const store = openStore(job.store, { endpoint: job.endpoint });
    try {
      const { job: spec, shards } = await preparedJob(store);
      log(`job ${job.id}: running`);
      const out = await runLocalWorkflow({
        job,
        resume: true,
        signal,
        maxConcurrency: Math.min(spec.compute.maxConcurrency, shards),
        workers: Math.min(this.workers, shards),
        ...(this.opts.outcome ? { outcome: this.opts.outcome } : {}),
        ...(this.opts.publish ? { publish: this.opts.publish } : {}),
      });
      log(`job ${job.id}: ${out.status}`);
      try {
        const { writeStorePlots } = await import("../shared/report/runReport.ts");
        await writeStorePlots(store);
      } catch (e) {
        log(`job ${job.id}: could not draw the plots: ${(e as Error).message.split("\n")[0]}`);
      }
    } catch (e) {
      if (e instanceof CancelledError) {
        log(`job ${job.id}: ${this.closed ? "stopped with the server; it resumes on the next start" : "cancelled"}`);
        return;
      }
      // the state machine records its own failures; anything else (the engine itself, or a
      // failure it could not write: a full disk) is recorded here, and retried until it is
      if (!(await store.has("failure.json").catch(() => false))) await this.record(job.id!, store, reasonOf(e));
      log(`job ${job.id}: failed: ${((e as Error).message ?? String(e)).split("\n")[0]}`);
    }
  }

  /** Writes the job's failure.json, or keeps it to try again every few seconds. */
  private async record(id: string, store: BlobStore, reason: { Error: string; Cause: string }): Promise<void> {
    try {
      await recordFailure(store, reason);
      this.unrecorded.delete(id);
    } catch (e) {
      if (!this.unrecorded.has(id))
        (this.opts.log ?? (() => undefined))(
          `job ${id}: cannot record its failure yet (${(e as Error).message.split("\n")[0]}); retrying`,
        );
      this.unrecorded.set(id, { store, reason });
      this.retry ??= setInterval(() => {
        if (this.unrecorded.size === 0) {
          clearInterval(this.retry);
          this.retry = undefined;
          return;
        }
        for (const [job, u] of this.unrecorded) void this.record(job, u.store, u.reason);
      }, RECORD_RETRY_MS).unref();
    }
  }
}
