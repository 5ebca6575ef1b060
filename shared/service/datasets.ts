// Registered datasets: CSV uploads stored in the sharded format, or sharded files the client
// uploads itself through presigned URLs; named datasets with versions; and the data a submitted job
// trains on. Layout under the service's store: datasets/<id>/dataset.json (the record),
// datasets/<id>/manifest.json + files; dataset-names/<name>.json (a named dataset: its columns and
// its versions, each a dataset id, immutable once written).

import { csvDataset } from "../data/csv.ts";
import { DataError } from "../data/errors.ts";
import { loadDataset } from "../data/load.ts";
import { decodeShards, encodeShards, parseManifest } from "../data/shards.ts";
import type { Dataset } from "../data/types.ts";
import type { DatasetView } from "../spec/api.ts";
import type { JobSpec } from "../spec/job.ts";
import { getJson, IntegrityError, NotFoundError, putJson, type BlobStore } from "../store/blobStore.ts";
import { invalid, notFound } from "./errors.ts";
import { KeyedLock, newId } from "./idempotency.ts";
import { DATASET_NAME } from "../spec/job.ts";

interface DatasetRecord {
  id: string;
  name: string;
  kind: "classification" | "regression";
  createdAt: string;
  /** files still to be uploaded through presigned URLs (AWS registration) */
  files?: { path: string; sha256: string }[];
  /** a named dataset's version registered for upload: the columns its manifest must have */
  columns?: { features: string[]; label?: string };
}

type Upload = { path: string; url: string; method: "PUT"; headers: Record<string, string> };

export interface CsvUpload {
  name: string;
  label: string;
  kind: "classification" | "regression";
  testFraction: number;
  seed: number;
}

export interface Registration {
  name: string;
  kind: "classification" | "regression";
  files: { path: string; sha256: string }[];
}

const validId = (id: string) => /^[a-z0-9][a-z0-9-]{0,63}$/.test(id);

/** A named dataset: the columns its first version set, and every version in order. */
interface NameRecord {
  name: string;
  kind: "classification" | "regression";
  columns: { features: string[]; label?: string };
  versions: { version: number; id: string; createdAt: string }[];
}

export interface DatasetVersionView {
  name: string;
  version: number;
  dataset: DatasetView;
}

export class DatasetService {
  private readonly names = new KeyedLock();
  constructor(private readonly root: BlobStore, private readonly now: () => number, private readonly presignSeconds: number) {}

  private nameKey(name: string): string {
    return `dataset-names/${name}.json`;
  }

  private async nameRecord(name: string): Promise<NameRecord | null> {
    if (!DATASET_NAME.test(name)) return null;
    try {
      return (await getJson(this.root, this.nameKey(name))) as NameRecord;
    } catch (e) {
      if (e instanceof NotFoundError) return null;
      throw e;
    }
  }

  /** Why `columns` cannot be a version of the named dataset (empty: they can). */
  private columnProblems(name: string, rec: NameRecord, kind: "classification" | "regression", columns: { features: string[]; label?: string }): void {
    if (rec.kind !== kind) throw invalid(`dataset "${name}" is a ${rec.kind} dataset; this version is ${kind}`, [{ path: "kind", message: `expected ${rec.kind}` }]);
    const missing = rec.columns.features.filter((c) => !columns.features.includes(c)), extra = columns.features.filter((c) => !rec.columns.features.includes(c));
    const problems = [
      ...(missing.length ? [`missing ${missing.map((c) => `"${c}"`).join(", ")}`] : []),
      ...(extra.length ? [`new ${extra.map((c) => `"${c}"`).join(", ")}`] : []),
      ...(!missing.length && !extra.length && rec.columns.features.join(",") !== columns.features.join(",") ? ["the same columns in another order"] : []),
      ...(rec.columns.label !== columns.label ? [`label "${columns.label}" where version 1 has "${rec.columns.label}"`] : []),
    ];
    if (problems.length) throw invalid(`this version's columns do not match version 1 of dataset "${name}" (${rec.columns.features.join(", ")}; label ${rec.columns.label}): ${problems.join("; ")}`, [{ path: "columns", message: problems.join("; ") }]);
  }

  /** Appends a version to the named dataset, one at a time per name, after checking its columns against version 1's. */
  private appendVersion<T extends { dataset: DatasetView }>(name: string, kind: "classification" | "regression", columns: { features: string[]; label?: string }, store: () => Promise<T>): Promise<T & { name: string; version: number }> {
    if (!DATASET_NAME.test(name)) throw invalid("a dataset name is 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit", [{ path: "name", message: "invalid name" }]);
    // one version at a time per name, so two uploads never take the same number
    return this.names.run(name, async () => {
      const rec = await this.nameRecord(name);
      if (rec) this.columnProblems(name, rec, kind, columns);
      const stored = await store();
      const version = (rec?.versions.length ?? 0) + 1;
      const next: NameRecord = { name, kind, columns: rec?.columns ?? columns, versions: [...(rec?.versions ?? []), { version, id: stored.dataset.id, createdAt: stored.dataset.createdAt }] };
      await putJson(this.root, this.nameKey(name), next);
      return { ...stored, name, version };
    });
  }

  /** A new version of the named dataset `name` from a CSV upload: its columns must be the first version's. */
  async addVersion(name: string, text: string, opts: Omit<CsvUpload, "name">): Promise<DatasetVersionView> {
    const ds = this.parseCsv(text, opts);
    const v = await this.appendVersion(name, opts.kind, ds.columns ?? { features: [] }, async () => ({ dataset: await this.storeDataset(ds, { name, kind: opts.kind }) }));
    return { name: v.name, version: v.version, dataset: v.dataset };
  }

  /**
   * A new version whose sharded files the client uploads through presigned URLs (S3 stores): the
   * declared columns are checked against version 1's now, and the uploaded manifest's against the
   * declared ones when the version is read. "latest" means the latest version that is ready.
   */
  async registerVersion(name: string, body: Omit<Registration, "name"> & { columns: { features: string[]; label?: string } }): Promise<DatasetVersionView & { uploads: Upload[]; expiresInSeconds: number }> {
    const v = await this.appendVersion(name, body.kind, body.columns, () => this.registerUpload({ name, kind: body.kind, files: body.files }, body.columns));
    return { name: v.name, version: v.version, dataset: v.dataset, uploads: v.uploads, expiresInSeconds: v.expiresInSeconds };
  }

  /** The versions of a named dataset, oldest first. */
  async versions(name: string): Promise<DatasetVersionView[]> {
    const rec = await this.nameRecord(name);
    if (!rec) throw notFound(`dataset "${name.slice(0, 80)}"`);
    const out: DatasetVersionView[] = [];
    for (const v of rec.versions) out.push({ name, version: v.version, dataset: await this.get(v.id) });
    return out;
  }

  /** The job with a named dataset pinned: `version` ("latest" by default) resolved to a number and its dataset id. */
  async resolve(spec: JobSpec): Promise<JobSpec> {
    const p = spec.problem;
    if ((p.type !== "classification" && p.type !== "regression") || p.data.source !== "dataset" || p.data.name === undefined) return spec;
    const name = p.data.name;
    const rec = await this.nameRecord(name);
    if (!rec) throw invalid(`no dataset named "${name}": upload a version with POST /datasets/${name}/versions`, [{ path: "problem.data.name", message: "unknown dataset" }]);
    const want = p.data.version ?? "latest";
    let v: NameRecord["versions"][number] | undefined;
    if (want === "latest") {
      // the latest version whose files are all uploaded
      for (let i = rec.versions.length - 1; i >= 0 && !v; i--) {
        const r = await this.record(rec.versions[i].id);
        if (r && (await this.ready(r))) v = rec.versions[i];
      }
      if (!v) throw invalid(`dataset "${name}" has no version whose files are all uploaded yet`, [{ path: "problem.data.name", message: "no ready version" }]);
    } else {
      v = rec.versions.find((x) => x.version === want);
      if (!v) throw invalid(`dataset "${name}" has versions 1 to ${rec.versions.length}; there is no version ${want}`, [{ path: "problem.data.version", message: "no such version" }]);
    }
    return { ...spec, problem: { ...p, data: { ...p.data, version: v.version, id: v.id } } } as JobSpec;
  }

  private file(id: string, path: string): string {
    return `datasets/${id}/${path}`;
  }

  private async record(id: string): Promise<DatasetRecord | null> {
    if (!validId(id)) return null;
    try {
      return (await getJson(this.root, this.file(id, "dataset.json"))) as DatasetRecord;
    } catch (e) {
      if (e instanceof NotFoundError) return null;
      throw e;
    }
  }

  private async ready(rec: DatasetRecord): Promise<boolean> {
    if (!rec.files) return true;
    for (const f of rec.files) if (!(await this.root.has(this.file(rec.id, f.path)))) return false;
    return true;
  }

  private async view(rec: DatasetRecord): Promise<DatasetView> {
    const ready = await this.ready(rec);
    let shape = {};
    if (ready) {
      try {
        const m = parseManifest(new TextDecoder().decode(await this.root.get(this.file(rec.id, "manifest.json"))), `dataset ${rec.id}`);
        shape = { rows: { train: m.splits.train.rows, test: m.splits.test.rows }, features: m.features, outputs: m.outputs };
      } catch (e) {
        if (!(e instanceof DataError) && !(e instanceof NotFoundError)) throw e;
      }
    }
    return { id: rec.id, name: rec.name, kind: rec.kind, status: ready ? "ready" : "pending", createdAt: rec.createdAt, ...shape, links: { self: `/datasets/${rec.id}` } };
  }

  private parseCsv(text: string, opts: Omit<CsvUpload, "name">): Dataset {
    try {
      return csvDataset(text, "the upload", { label: opts.label, kind: opts.kind, standardize: true, testFraction: opts.testFraction, seed: opts.seed });
    } catch (e) {
      if (e instanceof DataError) throw invalid(e.message, [{ path: "", message: e.message }]);
      throw e;
    }
  }

  /** Registers a CSV upload: parsed, standardized, split and stored in the sharded format. */
  async uploadCsv(text: string, opts: CsvUpload): Promise<DatasetView> {
    return this.storeDataset(this.parseCsv(text, opts), opts);
  }

  private async storeDataset(ds: Dataset, opts: { name: string; kind: "classification" | "regression" }): Promise<DatasetView> {
    const rec: DatasetRecord = { id: newId("d"), name: opts.name, kind: opts.kind, createdAt: new Date(this.now()).toISOString() };
    const encoded = encodeShards(ds, 1);
    for (const f of encoded.files) await this.root.put(this.file(rec.id, f.path), f.bytes);
    await putJson(this.root, this.file(rec.id, "manifest.json"), encoded.manifest);
    await putJson(this.root, this.file(rec.id, "dataset.json"), rec);
    return this.view(rec);
  }

  /** Registers a dataset whose sharded files the client uploads itself, through presigned URLs. */
  async registerUpload(body: Registration, columns?: { features: string[]; label?: string }): Promise<{ dataset: DatasetView; uploads: Upload[]; expiresInSeconds: number }> {
    if (!this.root.presign) throw invalid("this server's store takes no direct uploads; POST the data as text/csv");
    if (!body.files.some((f) => f.path === "manifest.json")) throw invalid("the files include manifest.json (the sharded format's index, as enkf data writes it)", [{ path: "files", message: "no manifest.json" }]);
    const rec: DatasetRecord = { id: newId("d"), name: body.name, kind: body.kind, createdAt: new Date(this.now()).toISOString(), files: body.files, ...(columns ? { columns } : {}) };
    await putJson(this.root, this.file(rec.id, "dataset.json"), rec);
    const seconds = this.presignSeconds;
    const uploads = [];
    for (const f of body.files) uploads.push({ path: f.path, method: "PUT" as const, ...(await this.root.presign(this.file(rec.id, f.path), "put", seconds, f.sha256)) });
    return { dataset: await this.view(rec), uploads, expiresInSeconds: seconds };
  }

  async list(): Promise<DatasetView[]> {
    const out: DatasetView[] = [];
    for (const k of await this.root.list("datasets/")) {
      if (!k.endsWith("/dataset.json")) continue;
      const rec = await this.record(k.split("/")[1]);
      if (rec) out.push(await this.view(rec));
    }
    return out;
  }

  async get(id: string): Promise<DatasetView> {
    const rec = await this.record(id);
    if (!rec) throw notFound(`dataset ${id.slice(0, 80)}`);
    return this.view(rec);
  }

  /** The dataset a job trains on: mnist or a registered dataset; files on the server are refused. */
  async forJob(spec: JobSpec): Promise<Dataset> {
    if (spec.problem.type !== "classification" && spec.problem.type !== "regression") {
      throw invalid(`the service trains networks (problem.type "classification" or "regression") and calibrates inverse problems; "${spec.problem.type}" runs with enkf run`, [{ path: "problem.type", message: "not served over HTTP" }]);
    }
    const data = spec.problem.data;
    if (data.source !== "mnist" && data.source !== "dataset") {
      throw invalid(`data source "${data.source}" reads files on the server; register the data with POST /datasets and use {"source": "dataset", "id": …}`, [{ path: "problem.data.source", message: "use \"dataset\" or \"mnist\"" }]);
    }
    try {
      return await loadDataset(data, spec.problem.type, "/", (id) => this.read(id));
    } catch (e) {
      if (e instanceof DataError) throw invalid(e.message, [{ path: "problem.data", message: e.message }]);
      throw e;
    }
  }

  private async read(id: string): Promise<Dataset> {
    const rec = await this.record(id);
    if (!rec) throw new DataError(`no dataset "${id}": register it with POST /datasets`);
    if (!(await this.ready(rec))) throw new DataError(`dataset ${id} is still waiting for its files to be uploaded`);
    const read = (path: string) => this.root.get(this.file(id, path));
    try {
      const manifest = parseManifest(new TextDecoder().decode(await read("manifest.json")), `dataset ${id}`);
      if (rec.columns && JSON.stringify(manifest.columns ?? null) !== JSON.stringify(rec.columns)) {
        throw new DataError(`dataset ${id}: the uploaded manifest's columns ${JSON.stringify(manifest.columns ?? null)} are not the ${JSON.stringify(rec.columns)} this version was registered with`);
      }
      return await decodeShards(manifest, read, `dataset ${id}`);
    } catch (e) {
      // an upload whose bytes do not match the sha256 it was registered with
      if (e instanceof IntegrityError) throw new DataError(`dataset ${id}: ${e.message}; upload that file again`);
      throw e;
    }
  }
}
