// The read side of the service's jobs: a job's record, status, view, history and list, and a
// finished (or cancelled) job's result, report, trained model and θ. JobService (jobs.ts) adds
// submitting and cancelling on top.

import type { Posterior } from "../enkf/types.ts";
import type { JobStatus, JobView } from "../spec/api.ts";
import { getJson, NotFoundError, type BlobStore } from "../store/blobStore.ts";
import { openStore } from "../store/openStore.ts";
import type { JobRef } from "../workflow/events.ts";
import { keys } from "../workflow/jobStore.ts";
import { conflict, notFound, ServiceError } from "./errors.ts";

/** the sampler's particles, as writeRunFiles names them */
const SAMPLES = "samples.npy";
import { jobProgress, storeHistory, storePromotion, storeStatus } from "./jobStatus.ts";
import type { ServiceOptions } from "./ports.ts";
import { partialResult, type PartialResult } from "./partialResult.ts";
import { decodeNpyFloat64, encodeNpyFloat64 } from "../formats/npy.ts";
import { parseModelCard, type ModelCard } from "../predict/modelCard.ts";
import { JobIndex } from "./jobIndex.ts";
import type { JobRecord } from "./jobRecord.ts";
export type { ChampionLookup, SubmitOptions } from "./jobRecord.ts";

const join = (location: string, ...parts: string[]) => [location.replace(/\/+$/, ""), ...parts].join("/");

export class JobReader {
  protected readonly index: JobIndex;
  protected readonly now: () => number;

  constructor(
    protected readonly opts: ServiceOptions,
    protected readonly root: BlobStore,
  ) {
    this.now = opts.now ?? Date.now;
    this.index = new JobIndex(root);
  }

  jobRef(id: string): JobRef {
    return {
      id,
      store: join(this.opts.location, "jobs", id),
      ...(this.opts.endpoint ? { endpoint: this.opts.endpoint } : {}),
    };
  }

  jobStore(id: string): BlobStore {
    return openStore(this.jobRef(id).store, { endpoint: this.opts.endpoint });
  }

  async record(id: string): Promise<JobRecord> {
    if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(id)) throw notFound(`job ${id.slice(0, 80)}`);
    try {
      return (await getJson(this.jobStore(id), "job.json")) as JobRecord;
    } catch (e) {
      if (e instanceof NotFoundError) throw notFound(`job ${id}`);
      throw e;
    }
  }

  /** The job's status from its store; a failure the engine could not record yet (a full disk) is one. */
  async status(id: string, store: BlobStore = this.jobStore(id)): Promise<{ status: JobStatus; message?: string }> {
    const s = await storeStatus(store);
    const unrecorded =
      s.status === "queued" || s.status === "running" ? this.opts.engine.unrecordedFailure?.(id) : undefined;
    return unrecorded ? { status: "failed", message: unrecorded } : s;
  }

  /** `store`: a job store of its own, e.g. the run directory of `enkf run` with compute.shards
   *  (no job.json; `id` is the directory's name). */
  async view(id: string, opts: { store?: BlobStore } = {}): Promise<JobView> {
    const store = opts.store ?? this.jobStore(id);
    // a store of its own carries its record, if it has one (a job of the service read from disk)
    const rec = !opts.store
      ? await this.record(id)
      : (await store.has("job.json"))
        ? ((await getJson(store, "job.json")) as JobRecord)
        : {
            id,
            name: ((await getJson(store, keys.spec)) as { name: string }).name,
            createdAt: new Date(this.now()).toISOString(),
            bodySha256: "",
          };
    const spec = (await getJson(store, keys.spec)) as { stop: { maxIterations: number } };
    const { status, message } = opts.store ? await storeStatus(store) : await this.status(id, store);
    const history = await storeHistory(store, status);
    // once finished, the full-split metrics too (train and test loss and accuracy)
    const result =
      status === "succeeded"
        ? ((await getJson(store, keys.result)) as {
            metrics?: Record<string, number>;
            parameters?: Record<string, number>;
            posterior?: Posterior;
          })
        : {};
    const final = result.metrics ?? {};
    const last = history[history.length - 1] as Record<string, unknown> | undefined;
    const iteration = history.length;
    const max = spec.stop.maxIterations;
    const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
    return {
      id,
      name: rec.name,
      status,
      createdAt: rec.createdAt,
      iteration,
      maxIterations: max,
      ...jobProgress(status, iteration, max, last?.seconds),
      metrics: {
        objective: num(last?.objective),
        batchAccuracy: num(last?.batchAccuracy),
        ...Object.fromEntries(Object.entries(final).map(([k, v]) => [k, num(v)])),
      },
      ...(message ? { message } : {}),
      // an inverse job's calibrated parameters, by name, in their units
      ...(result.parameters ? { parameters: result.parameters } : {}),
      // and the uncertainty around them (the Laplace posterior's marginals and correlations)
      ...(result.posterior ? { posterior: result.posterior } : {}),
      ...(rec.warmStart ? { warmStart: rec.warmStart } : {}),
      ...(await storePromotion(store)),
      links: this.links(id),
    };
  }

  links(id: string): Record<string, string> {
    return {
      self: `/jobs/${id}`,
      history: `/jobs/${id}/history`,
      result: `/jobs/${id}/result`,
      report: `/jobs/${id}/report`,
    };
  }

  async history(id: string): Promise<{ id: string; history: unknown[] }> {
    await this.record(id);
    return { id, history: await storeHistory(this.jobStore(id)) };
  }

  async list(limit: number, cursor?: string): Promise<{ jobs: JobView[]; nextCursor: string | null }> {
    const { ids, nextCursor } = await this.index.page(limit, cursor);
    const jobs: JobView[] = [];
    for (const id of ids) {
      try {
        jobs.push(await this.view(id));
      } catch (e) {
        if (!(e instanceof ServiceError && e.kind === "not_found")) throw e; // a job whose record is gone is skipped
      }
    }
    return { jobs, nextCursor };
  }

  /** The succeeded job's store, or a cancelled job's partial result, or a conflict saying what it is instead. */
  protected async finished(id: string, what: string): Promise<{ store: BlobStore; partial: PartialResult | null }> {
    await this.record(id);
    const store = this.jobStore(id);
    const { status } = await storeStatus(store);
    if (status === "succeeded") return { store, partial: null };
    const partial = status === "cancelled" && !(await store.has(keys.result)) ? await partialResult(store) : null;
    if (!partial)
      throw conflict(
        `job ${id} is ${status}; its ${what} exists once it has ` +
          `succeeded${status === "cancelled" ? " or completed an iteration" : ""}`,
      );
    return { store, partial };
  }

  async result(
    id: string,
    thetaPath: string,
  ): Promise<{ result: unknown; theta: { url: string; bytes: number; expiresInSeconds?: number } }> {
    const { store, partial } = await this.finished(id, "result");
    if (partial)
      return { result: partial.doc, theta: { url: thetaPath, bytes: encodeNpyFloat64(partial.theta).length } };
    const result = await getJson(store, keys.result);
    const theta = await store.get(keys.theta);
    if (store.presign) {
      const seconds = this.opts.presignSeconds ?? 900;
      return {
        result,
        theta: {
          url: (await store.presign(keys.theta, "get", seconds)).url,
          bytes: theta.length,
          expiresInSeconds: seconds,
        },
      };
    }
    return { result, theta: { url: thetaPath, bytes: theta.length } };
  }

  /** The run report (shared/report): one self-contained HTML page. */
  async report(id: string): Promise<string> {
    const { store, partial } = await this.finished(id, "report");
    const { runReportHtml } = await import("../report/runReport.ts");
    // a cancelled job's report is drawn from its partial result (its status line says so)
    const resultJson = partial ? new TextEncoder().encode(JSON.stringify(partial.doc)) : null;
    return runReportHtml(
      (name) => (resultJson && name === keys.result ? Promise.resolve(resultJson) : store.get(name)),
      `job ${id}`,
    );
  }

  /** The trained model: model.json and θ (theta.npy, the best θ) of a job that succeeded. */
  async model(id: string): Promise<{ card: ModelCard; theta: Float64Array }> {
    const { store, partial } = await this.finished(id, "model");
    if (partial || !(await store.has(keys.model)))
      throw conflict(`job ${id} has no trained model: a model exists once a network job has succeeded`);
    const card = parseModelCard(new TextDecoder().decode(await store.get(keys.model)), `job ${id}: model.json`);
    return { card, theta: decodeNpyFloat64(await store.get(keys.theta)) };
  }

  /** The sampler's particles (samples.npy, count × n in the parameters' units) of a job that succeeded. */
  async samples(id: string): Promise<Uint8Array> {
    const { store, partial } = await this.finished(id, "samples");
    if (partial || !(await store.has(SAMPLES)))
      throw conflict(
        `job ${id} has no samples: the ensemble Kalman sampler (method "eks") writes them when it succeeds`,
      );
    return store.get(SAMPLES);
  }

  async theta(id: string): Promise<Uint8Array> {
    const { store, partial } = await this.finished(id, "θ");
    return partial ? encodeNpyFloat64(partial.theta) : store.get(keys.theta);
  }

  /**
   * Jobs neither finished, failed nor cancelled (the local server resumes them on start). A
   * submission a crash cut short (an index marker without its record) is discarded.
   */
  async unfinished(): Promise<string[]> {
    const out: string[] = [];
    for (const { id, marker } of await this.index.all()) {
      const store = this.jobStore(id);
      if (!(await store.has("job.json"))) {
        await this.index.discard(id, marker);
        continue;
      }
      const { status } = await this.status(id, store);
      if (status === "queued" || status === "running") out.push(id);
    }
    return out;
  }
}
