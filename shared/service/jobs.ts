// Jobs: submit (validated, admitted, prepared in the job's own store, started on the engine), read
// back (jobReader.ts: status, view, history, result, report, θ), list and cancel. Layout under the service's store:
//   jobs/<id>/job.json         the job's record (jobRecord.ts), written last: the submission's commit
//   jobs/<id>/…                the job's own store (shared/workflow/jobStore.ts)
//   jobs/<id>/cancel.json      written by a cancel
//   index/<inverted time>-<id> empty markers that list jobs newest first (jobIndex.ts)
//   blobs/<sha256>             the jobs' dataset files, each stored once (workflow/datasetFiles.ts)
// A submission that fails removes what it wrote.

import type { Dataset } from "../data/types.ts";
import type { JobView } from "../spec/api.ts";
import type { JobSpec } from "../spec/job.ts";
import { getJson, putJson, type BlobStore } from "../store/blobStore.ts";
import { prepareJob } from "../workflow/shardJob.ts";
import type { DatasetService } from "./datasets.ts";
import { busy, conflict, invalid, ServiceError } from "./errors.ts";
import { keyedId, KeyedLock, newId, sha256, validKey } from "./idempotency.ts";
import { storeStatus } from "./jobStatus.ts";
import type { ServiceOptions } from "./ports.ts";
import {
  checkFits,
  checkForwardFunction,
  checkForwardHost,
  forwardUnreachable,
  httpInputs,
  jobRefused,
  parseSpec,
} from "./submission.ts";
import { isInverseJob, prepareMemberJob } from "../workflow/memberJob.ts";
import { resolveWarmStart, WarmStartError, type ModelSource } from "../predict/warmStart.ts";
import { networkModel } from "../problems/build.ts";
import { checkMemory, dryRun, jobShards } from "./admission.ts";
import type { ChampionLookup, JobRecord, SubmitOptions } from "./jobRecord.ts";
import { JobReader } from "./jobReader.ts";

export type { ChampionLookup, SubmitOptions } from "./jobRecord.ts";

export class JobService extends JobReader {
  private readonly lock = new KeyedLock();

  constructor(
    opts: ServiceOptions,
    root: BlobStore,
    private readonly datasets: DatasetService,
    private readonly champion: ChampionLookup,
  ) {
    super(opts, root);
  }

  /** Validates, prepares and starts a job; with an idempotency key, a repeat returns the first job. */
  async submit(
    body: unknown,
    idempotencyKey?: string,
    opts: SubmitOptions = {},
  ): Promise<{ id: string; created: boolean }> {
    const spec = parseSpec(body);
    const bodySha256 = sha256(JSON.stringify(spec));
    if (idempotencyKey !== undefined && !validKey(idempotencyKey))
      throw invalid("Idempotency-Key must be 1 to 255 visible ASCII characters", [
        { path: "Idempotency-Key", message: "invalid header" },
      ]);
    const id = idempotencyKey !== undefined ? keyedId(idempotencyKey) : newId("j");
    return this.lock.run(id, async () => {
      const store = this.jobStore(id);
      if (idempotencyKey !== undefined && (await store.has("job.json"))) {
        const rec = (await getJson(store, "job.json")) as JobRecord;
        if (rec.bodySha256 !== bodySha256)
          throw conflict(
            `Idempotency-Key "${idempotencyKey.slice(0, 80)}" was used for job ${id} with a different body`,
          );
        return { id, created: false };
      }
      // the place is taken before the first await, so --max-jobs holds however many submit at once
      const slot = this.opts.engine.reserve ? this.opts.engine.reserve() : undefined;
      if (slot === null)
        throw busy(
          "this server already has as many jobs queued or running as it takes (--max-jobs); wait for " +
            "one to finish, or cancel one",
        );
      const marker = this.index.marker(id, this.now());
      let warm: Awaited<ReturnType<JobService["warmStart"]>>;
      try {
        // a named dataset's "latest" resolves now; the job's spec.json records the version
        const pinned = await this.datasets.resolve(spec);
        if (isInverseJob(pinned)) {
          // an inverse job fans out over member blocks; its forward is probed here, before it is accepted
          checkForwardFunction(pinned, this.opts.forwardFunctions ?? []);
          checkForwardHost(pinned, this.opts.forwardHosts ?? []);
          await prepareMemberJob(store, pinned, httpInputs).catch(forwardUnreachable).catch(jobRefused);
        } else {
          const dataset = await this.datasets.forJob(pinned);
          checkFits(pinned, dataset);
          checkMemory(this.opts, pinned, dataset);
          warm = await this.warmStart(pinned, dataset);
          // the dataset's files once, in the service's blobs/ (content-addressed), for all its jobs
          await prepareJob(
            store,
            pinned,
            dataset,
            jobShards(this.opts, pinned, dataset),
            warm?.theta,
            "../../blobs",
          ).catch(jobRefused);
        }
        const rec: JobRecord = {
          id,
          name: spec.name,
          createdAt: new Date(this.now()).toISOString(),
          bodySha256,
          ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
          ...(opts.schedule ? { schedule: opts.schedule } : {}),
          ...(opts.execution ? { execution: opts.execution } : {}),
          ...(opts.promote ? { promote: opts.promote } : {}),
          ...(warm ? { warmStart: warm.from } : {}),
        };
        await this.root.put(marker, new Uint8Array(0));
        // the commit point: a job exists once its record does, and everything it needs is written before
        await putJson(store, "job.json", rec);
      } catch (e) {
        slot?.release();
        await this.index.discard(id, marker);
        throw e;
      }
      if (opts.start !== false) await this.opts.engine.start(this.jobRef(id), slot);
      else slot?.release();
      return { id, created: true };
    });
  }

  /** Whether a job with this id has been created. */
  exists(id: string): Promise<boolean> {
    return this.jobStore(id).has("job.json");
  }

  /**
   * A warm start's θ₀ (problem.initial): that job's model, or the model's champion, checked against this job's network.
   */
  private async warmStart(
    spec: JobSpec,
    dataset: Dataset | undefined,
  ): Promise<{ theta: Float64Array; from: NonNullable<JobRecord["warmStart"]> } | undefined> {
    const p = spec.problem;
    if ((p.type !== "classification" && p.type !== "regression") || !dataset) return undefined;
    const source: ModelSource = {
      champion: (name, field) => this.champion(name, field),
      trained: (job, field) =>
        this.model(job).catch((e: unknown) => {
          throw e instanceof ServiceError
            ? invalid(`${field}: ${e.message}`, [{ path: field, message: e.message }])
            : e;
        }),
    };
    try {
      return await resolveWarmStart(
        p.initial,
        undefined,
        { model: networkModel(p.model, dataset), data: dataset },
        source,
      );
    } catch (e) {
      if (e instanceof WarmStartError)
        throw invalid(e.message, [{ path: e.field ?? "problem.initial", message: e.message }]);
      throw e;
    }
  }

  /** A dry run: what the job would cost on AWS (shared/plan), nothing started. */
  async plan(body: unknown, memoryMb: number): Promise<unknown> {
    const spec = parseSpec(body);
    const dataset = async () => this.datasets.forJob(await this.datasets.resolve(spec));
    return dryRun(this.opts, spec, dataset, memoryMb);
  }

  async cancel(id: string): Promise<JobView> {
    const rec = await this.record(id);
    const { status } = await storeStatus(this.jobStore(id));
    if (status === "succeeded" || status === "failed")
      throw conflict(`job ${id} has already ${status === "succeeded" ? "succeeded" : "failed"}`);
    if (status === "cancelled") throw conflict(`job ${id} is already cancelled`);
    await putJson(this.jobStore(id), "cancel.json", { cancelledAt: new Date(this.now()).toISOString() });
    await this.opts.engine.stop(id, rec.execution);
    return this.view(id);
  }
}
