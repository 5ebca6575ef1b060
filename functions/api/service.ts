// The service behind the HTTP API: jobs, datasets and schedules over one store (a directory or an
// S3 prefix), an engine that runs jobs (the local state machine, or Step Functions) and a
// scheduler (in-process timers, or EventBridge Scheduler). Layout under the service's store:
//   jobs/<id>/job.json              the job's record (name, creation time, idempotency, body hash)
//   jobs/<id>/…                     the job's own store (shared/workflow/jobStore.ts)
//   jobs/<id>/cancel.json           written by DELETE /jobs/{id}
//   index/<inverted time>-<id>      empty markers that list jobs newest first
//   idempotency/<sha256 of key>.json the job an Idempotency-Key made
//   datasets/<id>/dataset.json, datasets/<id>/manifest.json + files   registered data (sharded format)
//   schedules/<id>.json             a schedule and its job template
// A job's status is read from its store, so it is the same whichever process asks:
// result.json → succeeded, failure.json → failed, cancel.json → cancelled, a state → running,
// else queued.

import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import { csvDataset } from "../../shared/data/csv.ts";
import { DataError } from "../../shared/data/errors.ts";
import { loadDataset } from "../../shared/data/load.ts";
import { decodeShards, encodeShards, parseManifest } from "../../shared/data/shards.ts";
import type { Dataset } from "../../shared/data/types.ts";
import { nextFiring, parseSchedule, ScheduleExpressionError } from "../../shared/schedule/expression.ts";
import type { DatasetView, JobStatus, JobView, ScheduleCreate, ScheduleView } from "../../shared/spec/api.ts";
import { JobSpec } from "../../shared/spec/job.ts";
import { LimitError } from "../../shared/spec/limits.ts";
import { specProblems } from "../../shared/spec/errors.ts";
import { getJson, IntegrityError, NotFoundError, putJson, type BlobStore } from "../../shared/store/blobStore.ts";
import { openStore } from "../../shared/store/openStore.ts";
import { keys } from "../../shared/workflow/jobStore.ts";
import { prepareJob, WorkflowError } from "../../shared/workflow/steps.ts";
import { UnsupportedJobError } from "../../shared/setup/jobSetup.ts";
import type { JobRef } from "../handlers.ts";
import { ApiError, badRequest, conflict, notFound } from "./http.ts";

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
}

interface JobRecord {
  id: string;
  name: string;
  createdAt: string;
  bodySha256: string;
  idempotencyKey?: string;
  schedule?: string;
  /** the execution that launched it (a schedule's firing on AWS), for cancel */
  execution?: string;
}

interface DatasetRecord {
  id: string;
  name: string;
  kind: "classification" | "regression";
  createdAt: string;
  /** files still to be uploaded through presigned URLs (AWS registration) */
  files?: { path: string; sha256: string }[];
}

export interface ServiceOptions {
  /** the service's store location: a directory or s3://bucket/prefix */
  location: string;
  endpoint?: string;
  engine: Engine;
  scheduler: Scheduler;
  /** training shards of each job unless its spec says compute.shards (default 4) */
  shards?: number;
  /** lifetime of presigned URLs in seconds (default 900) */
  presignSeconds?: number;
  now?: () => number;
}

const LaunchEvent = z.object({
  launch: z.object({ schedule: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/).optional(), template: z.unknown().optional(), name: z.string().optional(), at: z.string() })
    .refine((l) => (l.schedule === undefined) !== (l.template === undefined), "a launch names a stored schedule or carries a template"),
  execution: z.string().optional(),
});

/** A finished run's job status from its result's status (converged, max_iterations, … → succeeded). */
export function finishedStatus(resultStatus: string | undefined): JobStatus {
  return resultStatus === "failed" ? "failed" : resultStatus === "cancelled" ? "cancelled" : "succeeded";
}

/** Progress (1 once succeeded) and the ETA at the pace so far (while queued or running). */
export function jobProgress(status: JobStatus, iteration: number, maxIterations: number, lastSeconds: unknown): { progress: number; etaSeconds: number | null } {
  const active = status === "running" || status === "queued";
  return {
    progress: status === "succeeded" ? 1 : Math.min(1, iteration / maxIterations),
    etaSeconds: active && typeof lastSeconds === "number" && iteration > 0 ? (lastSeconds / iteration) * Math.max(0, maxIterations - iteration) : null,
  };
}

/** The body as a job spec, or 400 naming every bad field. */
function parseSpec(body: unknown): JobSpec {
  const parsed = JobSpec.safeParse(body);
  if (parsed.success) return parsed.data;
  const details = specProblems(parsed.error);
  throw new ApiError(400, "invalid_spec", `the job spec is not valid: ${details.length} problem${details.length === 1 ? "" : "s"}`, details);
}

/** A job the workflow cannot take (over a limit, not a network problem, too many shards): 400. */
function jobRefused(e: unknown): never {
  if (e instanceof LimitError) throw badRequest("the job is over the service's limits", e.problems);
  if (e instanceof WorkflowError || e instanceof UnsupportedJobError || e instanceof RangeError) throw badRequest(e.message, [{ path: e instanceof RangeError ? "compute.shards" : "problem", message: e.message }]);
  throw e;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const newId = (prefix: string) => `${prefix}${Date.now().toString(36)}${randomBytes(6).toString("hex")}`;
const INVERT = 10 ** 13;

function join(location: string, ...parts: string[]): string {
  return [location.replace(/\/+$/, ""), ...parts].join("/");
}

/** A registered dataset's files are its store keys under datasets/<id>/. */
function datasetStore(root: BlobStore, id: string): { read: (path: string) => Promise<Uint8Array> } {
  return { read: (path) => root.get(`datasets/${id}/${path}`) };
}

export class JobService {
  readonly root: BlobStore;
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly now: () => number;

  constructor(readonly opts: ServiceOptions) {
    this.root = openStore(opts.location, { endpoint: opts.endpoint });
    this.now = opts.now ?? Date.now;
  }

  jobRef(id: string): JobRef {
    return { id, store: join(this.opts.location, "jobs", id), ...(this.opts.endpoint ? { endpoint: this.opts.endpoint } : {}) };
  }

  jobStore(id: string): BlobStore {
    return openStore(this.jobRef(id).store, { endpoint: this.opts.endpoint });
  }

  /** One critical section per key in this process (two submits with one Idempotency-Key). */
  private async locked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    this.locks.set(key, next);
    try {
      return await next;
    } finally {
      if (this.locks.get(key) === next) this.locks.delete(key);
    }
  }

  // ------------------------------------------------------------------ jobs

  /** Validates, prepares and starts a job; with an idempotency key, a repeat returns the first job. */
  async submit(body: unknown, idempotencyKey?: string, opts: { schedule?: string; execution?: string; start?: boolean } = {}): Promise<{ id: string; created: boolean }> {
    const spec = parseSpec(body);
    const bodySha256 = sha256(JSON.stringify(spec));
    if (idempotencyKey !== undefined && !/^[\x21-\x7e]{1,255}$/.test(idempotencyKey)) throw badRequest("Idempotency-Key must be 1 to 255 visible ASCII characters", [{ path: "Idempotency-Key", message: "invalid header" }]);
    const id = idempotencyKey !== undefined ? `k${sha256(idempotencyKey).slice(0, 24)}` : newId("j");
    return this.locked(id, async () => {
      const store = this.jobStore(id);
      if (idempotencyKey !== undefined && (await store.has("job.json"))) {
        const rec = (await getJson(store, "job.json")) as JobRecord;
        if (rec.bodySha256 !== bodySha256) throw conflict(`Idempotency-Key "${idempotencyKey.slice(0, 80)}" was used for job ${id} with a different body`);
        return { id, created: false };
      }
      if (this.opts.engine.full?.()) throw new ApiError(429, "too_many_jobs", "this server already has as many jobs queued or running as it takes (--max-jobs); wait for one to finish, or cancel one");
      const dataset = await this.jobDataset(spec);
      await prepareJob(store, spec, dataset, this.shards(spec, dataset)).catch(jobRefused);
      const createdAt = new Date(this.now()).toISOString();
      const rec: JobRecord = { id, name: spec.name, createdAt, bodySha256, ...(idempotencyKey !== undefined ? { idempotencyKey } : {}), ...(opts.schedule ? { schedule: opts.schedule } : {}), ...(opts.execution ? { execution: opts.execution } : {}) };
      await putJson(store, "job.json", rec);
      await this.root.put(`index/${String(INVERT - this.now()).padStart(13, "0")}-${id}`, new Uint8Array(0));
      if (opts.start !== false) await this.opts.engine.start(this.jobRef(id));
      return { id, created: true };
    });
  }

  /** POST /jobs?dryRun=true: what the job would cost on AWS (shared/plan), nothing started. */
  async plan(body: unknown, memoryMb: number): Promise<unknown> {
    const spec = parseSpec(body);
    if (spec.optimizer.method !== "modified-enkf") throw badRequest("the AWS workflow runs the modified EnKF", [{ path: "optimizer.method", message: "use modified-enkf" }]);
    const dataset = await this.jobDataset(spec);
    const shards = this.shards(spec, dataset);
    const { planJob } = await import("../../shared/plan/calibrate.ts");
    return { dryRun: true, shards, memoryMb, estimate: await planJob(spec, dataset, shards, memoryMb).catch(jobRefused) };
  }

  /** compute.shards, or the service's default (at most one per training row). */
  private shards(spec: JobSpec, dataset: Dataset): number {
    return spec.compute.shards ?? Math.min(this.opts.shards ?? 4, Math.max(1, dataset.train.rows));
  }

  /** The dataset a job trains on: mnist or a registered dataset; files on the server are refused. */
  private async jobDataset(spec: JobSpec): Promise<Dataset> {
    if (spec.problem.type !== "classification" && spec.problem.type !== "regression") {
      throw badRequest(`the service trains networks (problem.type "classification" or "regression"); "${spec.problem.type}" runs with enkf run`, [{ path: "problem.type", message: "not served over HTTP" }]);
    }
    const data = spec.problem.data;
    if (data.source !== "mnist" && data.source !== "dataset") {
      throw badRequest(`data source "${data.source}" reads files on the server; register the data with POST /datasets and use {"source": "dataset", "id": …}`, [{ path: "problem.data.source", message: "use \"dataset\" or \"mnist\"" }]);
    }
    try {
      return await loadDataset(data, spec.problem.type, "/", (id) => this.readDataset(id));
    } catch (e) {
      if (e instanceof DataError) throw badRequest(e.message, [{ path: "problem.data", message: e.message }]);
      throw e;
    }
  }

  private async readDataset(id: string): Promise<Dataset> {
    const rec = await this.datasetRecord(id);
    if (!rec) throw new DataError(`no dataset "${id}": register it with POST /datasets`);
    if (!(await this.datasetReady(rec))) throw new DataError(`dataset ${id} is still waiting for its files to be uploaded`);
    const ds = datasetStore(this.root, id);
    try {
      const manifest = parseManifest(new TextDecoder().decode(await ds.read("manifest.json")), `dataset ${id}`);
      return await decodeShards(manifest, ds.read, `dataset ${id}`);
    } catch (e) {
      // an upload whose bytes do not match the sha256 it was registered with
      if (e instanceof IntegrityError) throw new DataError(`dataset ${id}: ${e.message}; upload that file again`);
      throw e;
    }
  }

  private async record(id: string): Promise<JobRecord> {
    if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(id)) throw notFound(`job ${id.slice(0, 80)}`);
    try {
      return (await getJson(this.jobStore(id), "job.json")) as JobRecord;
    } catch (e) {
      if (e instanceof NotFoundError) throw notFound(`job ${id}`);
      throw e;
    }
  }

  async status(id: string, store: BlobStore = this.jobStore(id)): Promise<{ status: JobStatus; message?: string }> {
    if (await store.has(keys.result)) {
      const r = (await getJson(store, keys.result)) as { message?: string; status?: string };
      return { status: finishedStatus(r.status), ...(r.message ? { message: r.message } : {}) };
    }
    if (await store.has(keys.failure)) {
      const f = (await getJson(store, keys.failure)) as { cause?: string; error?: string };
      return { status: "failed", message: f.cause || f.error || "failed" };
    }
    if (await store.has("cancel.json")) return { status: "cancelled", message: "cancelled; the completed iterations are kept in the job's store" };
    return { status: (await store.list("state/")).length > 0 ? "running" : "queued" };
  }

  /** `store`: a job store of its own, e.g. the run directory of `enkf run` with compute.shards
   *  (no job.json; `id` is the directory's name). */
  async view(id: string, opts: { store?: BlobStore } = {}): Promise<JobView> {
    const store = opts.store ?? this.jobStore(id);
    const rec = opts.store && !(await store.has("job.json"))
      ? { id, name: ((await getJson(store, keys.spec)) as { name: string }).name, createdAt: new Date(this.now()).toISOString(), bodySha256: "" }
      : await this.record(id);
    const spec = (await getJson(store, keys.spec)) as { stop: { maxIterations: number } };
    const { status, message } = await this.status(id, store);
    const history = await this.historyRows(id, status, store);
    // once finished, the full-split metrics too (train and test loss and accuracy)
    const final = status === "succeeded" ? ((await getJson(store, keys.result)) as { metrics?: Record<string, number> }).metrics ?? {} : {};
    const last = history[history.length - 1] as Record<string, unknown> | undefined;
    const iteration = history.length;
    const max = spec.stop.maxIterations;
    const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
    return {
      id, name: rec.name, status, createdAt: rec.createdAt,
      iteration, maxIterations: max,
      ...jobProgress(status, iteration, max, last?.seconds),
      metrics: { objective: num(last?.objective), batchAccuracy: num(last?.batchAccuracy), ...Object.fromEntries(Object.entries(final).map(([k, v]) => [k, num(v)])) },
      ...(message ? { message } : {}),
      links: this.jobLinks(id),
    };
  }

  jobLinks(id: string): Record<string, string> {
    return { self: `/jobs/${id}`, history: `/jobs/${id}/history`, result: `/jobs/${id}/result`, report: `/jobs/${id}/report` };
  }

  /** The history so far: from result.json once finished, else from the latest state. */
  async historyRows(id: string, status?: JobStatus, store: BlobStore = this.jobStore(id)): Promise<unknown[]> {
    if ((status ?? (await this.status(id, store)).status) === "succeeded") return ((await getJson(store, keys.result)) as { history: unknown[] }).history;
    const states = (await store.list("state/")).filter((k) => /^state\/\d{6}\.json$/.test(k));
    if (states.length === 0) return [];
    try {
      return ((await getJson(store, states[states.length - 1])) as { history: unknown[] }).history;
    } catch (e) {
      if (e instanceof NotFoundError) return [];
      throw e;
    }
  }

  async history(id: string): Promise<{ id: string; history: unknown[] }> {
    await this.record(id);
    return { id, history: await this.historyRows(id) };
  }

  async list(limit: number, cursor?: string): Promise<{ jobs: JobView[]; nextCursor: string | null }> {
    if (cursor !== undefined && !/^\d{13}-[a-z0-9-]{1,64}$/.test(cursor)) throw badRequest("cursor is not one this API returned", [{ path: "cursor", message: "invalid" }]);
    const all = await this.root.list("index/");
    const start = cursor ? all.findIndex((k) => k > `index/${cursor}`) : 0;
    const page = start < 0 ? [] : all.slice(start, start + limit);
    const jobs: JobView[] = [];
    for (const k of page) {
      try {
        jobs.push(await this.view(k.slice(k.indexOf("-") + 1)));
      } catch (e) {
        if (!(e instanceof ApiError)) throw e; // a job whose record is gone is skipped
      }
    }
    const more = start >= 0 && start + limit < all.length;
    return { jobs, nextCursor: more ? page[page.length - 1].slice("index/".length) : null };
  }

  async result(id: string, thetaPath: string): Promise<{ result: unknown; theta: { url: string; bytes: number; expiresInSeconds?: number } }> {
    await this.record(id);
    const { status } = await this.status(id);
    if (status !== "succeeded") throw conflict(`job ${id} is ${status}; its result exists once it has succeeded`);
    const store = this.jobStore(id);
    const result = await getJson(store, keys.result);
    const theta = await store.get(keys.theta);
    if (store.presign) {
      const seconds = this.opts.presignSeconds ?? 900;
      return { result, theta: { url: (await store.presign(keys.theta, "get", seconds)).url, bytes: theta.length, expiresInSeconds: seconds } };
    }
    return { result, theta: { url: thetaPath, bytes: theta.length } };
  }

  /** The run report (shared/report): one self-contained HTML page. */
  async report(id: string): Promise<string> {
    await this.record(id);
    const { status } = await this.status(id);
    if (status !== "succeeded") throw conflict(`job ${id} is ${status}; its report exists once it has succeeded`);
    const store = this.jobStore(id);
    const { runReportHtml } = await import("../../shared/report/runReport.ts");
    return runReportHtml((name) => store.get(name));
  }

  async theta(id: string): Promise<Uint8Array> {
    await this.record(id);
    if ((await this.status(id)).status !== "succeeded") throw conflict(`job ${id} has no result yet`);
    return this.jobStore(id).get(keys.theta);
  }

  async cancel(id: string): Promise<JobView> {
    const rec = await this.record(id);
    const { status } = await this.status(id);
    if (status === "succeeded" || status === "failed") throw conflict(`job ${id} has already ${status === "succeeded" ? "succeeded" : "failed"}`);
    if (status !== "cancelled") {
      await putJson(this.jobStore(id), "cancel.json", { cancelledAt: new Date(this.now()).toISOString() });
      await this.opts.engine.stop(id, rec.execution);
    }
    return this.view(id);
  }

  /** Jobs neither finished, failed nor cancelled (the local server resumes them on start). */
  async unfinished(): Promise<string[]> {
    const out: string[] = [];
    for (const k of await this.root.list("index/")) {
      const id = k.slice(k.indexOf("-") + 1);
      const { status } = await this.status(id);
      if (status === "queued" || status === "running") out.push(id);
    }
    return out;
  }

  // ------------------------------------------------------------------ datasets

  private async datasetRecord(id: string): Promise<DatasetRecord | null> {
    if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(id)) return null;
    try {
      return (await getJson(this.root, `datasets/${id}/dataset.json`)) as DatasetRecord;
    } catch (e) {
      if (e instanceof NotFoundError) return null;
      throw e;
    }
  }

  private async datasetReady(rec: DatasetRecord): Promise<boolean> {
    if (!rec.files) return true;
    for (const f of rec.files) if (!(await this.root.has(`datasets/${rec.id}/${f.path}`))) return false;
    return true;
  }

  private async datasetView(rec: DatasetRecord): Promise<DatasetView> {
    const ready = await this.datasetReady(rec);
    let shape = {};
    if (ready) {
      try {
        const m = parseManifest(new TextDecoder().decode(await this.root.get(`datasets/${rec.id}/manifest.json`)), `dataset ${rec.id}`);
        shape = { rows: { train: m.splits.train.rows, test: m.splits.test.rows }, features: m.features, outputs: m.outputs };
      } catch (e) {
        if (!(e instanceof DataError) && !(e instanceof NotFoundError)) throw e;
      }
    }
    return { id: rec.id, name: rec.name, kind: rec.kind, status: ready ? "ready" : "pending", createdAt: rec.createdAt, ...shape, links: { self: `/datasets/${rec.id}` } };
  }

  /** Registers a CSV upload: parsed, standardized, split and stored in the sharded format. */
  async uploadCsv(text: string, opts: { name: string; label: string; kind: "classification" | "regression"; testFraction: number; seed: number }): Promise<DatasetView> {
    let ds: Dataset;
    try {
      ds = csvDataset(text, "the upload", { label: opts.label, kind: opts.kind, standardize: true, testFraction: opts.testFraction, seed: opts.seed });
    } catch (e) {
      if (e instanceof DataError) throw badRequest(e.message, [{ path: "", message: e.message }]);
      throw e;
    }
    const rec: DatasetRecord = { id: newId("d"), name: opts.name, kind: opts.kind, createdAt: new Date(this.now()).toISOString() };
    const encoded = encodeShards(ds, 1);
    for (const f of encoded.files) await this.root.put(`datasets/${rec.id}/${f.path}`, f.bytes);
    await putJson(this.root, `datasets/${rec.id}/manifest.json`, encoded.manifest);
    await putJson(this.root, `datasets/${rec.id}/dataset.json`, rec);
    return this.datasetView(rec);
  }

  /** Registers a dataset whose sharded files the client uploads itself, through presigned URLs. */
  async registerUpload(body: { name: string; kind: "classification" | "regression"; files: { path: string; sha256: string }[] }): Promise<{ dataset: DatasetView; uploads: { path: string; url: string; method: "PUT"; headers: Record<string, string> }[]; expiresInSeconds: number }> {
    if (!this.root.presign) throw new ApiError(400, "bad_request", "this server's store takes no direct uploads; POST the data as text/csv");
    if (!body.files.some((f) => f.path === "manifest.json")) throw badRequest("the files include manifest.json (the sharded format's index, as enkf data writes it)", [{ path: "files", message: "no manifest.json" }]);
    const rec: DatasetRecord = { id: newId("d"), name: body.name, kind: body.kind, createdAt: new Date(this.now()).toISOString(), files: body.files };
    await putJson(this.root, `datasets/${rec.id}/dataset.json`, rec);
    const seconds = this.opts.presignSeconds ?? 900;
    const uploads = [];
    for (const f of body.files) uploads.push({ path: f.path, method: "PUT" as const, ...(await this.root.presign(`datasets/${rec.id}/${f.path}`, "put", seconds, f.sha256)) });
    return { dataset: await this.datasetView(rec), uploads, expiresInSeconds: seconds };
  }

  async datasets(): Promise<DatasetView[]> {
    const out: DatasetView[] = [];
    for (const k of await this.root.list("datasets/")) {
      if (!k.endsWith("/dataset.json")) continue;
      const rec = await this.datasetRecord(k.split("/")[1]);
      if (rec) out.push(await this.datasetView(rec));
    }
    return out;
  }

  async dataset(id: string): Promise<DatasetView> {
    const rec = await this.datasetRecord(id);
    if (!rec) throw notFound(`dataset ${id.slice(0, 80)}`);
    return this.datasetView(rec);
  }

  // ------------------------------------------------------------------ schedules

  private scheduleView(s: ScheduleRecord): ScheduleView {
    const next = nextFiring(parseSchedule(s.expression, true), this.now(), Date.parse(s.createdAt));
    return { id: s.id, name: s.name, expression: s.expression, createdAt: s.createdAt, nextRunAt: next === null ? null : new Date(next).toISOString(), firings: 0, links: { self: `/schedules/${s.id}` } };
  }

  async createSchedule(body: ScheduleCreate): Promise<ScheduleView> {
    try {
      parseSchedule(body.expression, this.opts.scheduler.allowSeconds);
    } catch (e) {
      if (e instanceof ScheduleExpressionError) throw badRequest(e.message, [{ path: "expression", message: e.message }]);
      throw e;
    }
    // the template must be a job this service can run, now rather than at the first firing
    await this.jobDataset(body.template as JobSpec);
    const s: ScheduleRecord = { id: newId("s"), name: body.name, expression: body.expression, template: body.template, createdAt: new Date(this.now()).toISOString() };
    await putJson(this.root, `schedules/${s.id}.json`, s);
    await this.opts.scheduler.arm(s);
    return this.scheduleView(s);
  }

  async scheduleRecords(): Promise<ScheduleRecord[]> {
    const out: ScheduleRecord[] = [];
    for (const k of await this.root.list("schedules/")) if (k.endsWith(".json")) out.push((await getJson(this.root, k)) as ScheduleRecord);
    return out;
  }

  async schedules(): Promise<ScheduleView[]> {
    const views = [];
    for (const s of await this.scheduleRecords()) views.push({ ...this.scheduleView(s), firings: await this.firings(s.id) });
    return views;
  }

  private async firings(id: string): Promise<number> {
    return (await this.root.list(`schedule-firings/${id}/`)).length;
  }

  async deleteSchedule(id: string): Promise<void> {
    if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(id) || !(await this.root.has(`schedules/${id}.json`))) throw notFound(`schedule ${id.slice(0, 80)}`);
    await this.opts.scheduler.disarm(id);
    await this.root.delete(`schedules/${id}.json`);
  }

  /** A schedule's firing at `at` (ms): submits its template once per firing, whoever calls. */
  async fire(id: string, at: number): Promise<string | null> {
    let s: ScheduleRecord;
    try {
      s = (await getJson(this.root, `schedules/${id}.json`)) as ScheduleRecord;
    } catch (e) {
      if (e instanceof NotFoundError) return null; // deleted meanwhile
      throw e;
    }
    const { id: job } = await this.submit(s.template, `schedule:${id}:${at}`, { schedule: id });
    await this.root.put(`schedule-firings/${id}/${at}`, new TextEncoder().encode(job));
    return job;
  }

  /**
   * The state machine's Launch state: a firing of an EventBridge schedule (a stored schedule's
   * id, or a template declared in the CDK app) creates and prepares its job inside the execution
   * the firing started. A retried firing finds its job and reports a duplicate.
   */
  async launch(event: unknown): Promise<{ job: JobRef; duplicate: boolean }> {
    const e = LaunchEvent.parse(event);
    const at = Date.parse(e.launch.at);
    if (!Number.isFinite(at)) throw new Error(`launch: "${e.launch.at}" is not a time`);
    let template: unknown, name: string;
    if (e.launch.schedule !== undefined) {
      template = ((await getJson(this.root, `schedules/${e.launch.schedule}.json`)) as ScheduleRecord).template;
      name = e.launch.schedule;
    } else {
      template = e.launch.template;
      name = e.launch.name ?? "template";
    }
    const { id, created } = await this.submit(template, `schedule:${name}:${at}`, { schedule: name, execution: e.execution, start: false });
    if (created) await this.root.put(`schedule-firings/${name}/${at}`, new TextEncoder().encode(id));
    return { job: this.jobRef(id), duplicate: !created };
  }
}
