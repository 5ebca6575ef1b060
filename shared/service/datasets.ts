// Registered datasets: CSV uploads streamed into the sharded format (csvUpload.ts), or sharded
// files the client uploads itself through presigned URLs; named datasets with versions; and the
// data a submitted job trains on. Records and listing: datasetRecords.ts. Named datasets:
// dataset-names/<name>.json (its columns and its versions, each a dataset id, immutable once
// written). A registration that does not complete leaves nothing behind.

import { DataError } from "../data/errors.ts";
import { loadDataset } from "../data/load.ts";
import { decodeShards, parseManifest } from "../data/shards.ts";
import type { Dataset } from "../data/types.ts";
import type { DatasetView } from "../spec/api.ts";
import type { JobSpec } from "../spec/job.ts";
import { DATASET_NAME } from "../spec/job.ts";
import { getJson, IntegrityError, NotFoundError, putJson, type BlobStore } from "../store/blobStore.ts";
import {
  checkColumns,
  ColumnsError,
  type ByteSource,
  type CsvIngester,
  type CsvUploadOptions,
  type IngestRequest,
} from "./csvUpload.ts";
import { datasetFile, DatasetRecords, type DatasetRecord } from "./datasetRecords.ts";
import { invalid, notFound } from "./errors.ts";
import { KeyedLock, newId } from "./idempotency.ts";

type Upload = { path: string; url: string; method: "PUT"; headers: Record<string, string> };
type Columns = { features: string[]; label?: string };

export interface Registration {
  name: string;
  kind: "classification" | "regression";
  files: { path: string; sha256: string }[];
}

/** A named dataset: the columns its first version set, and every version in order. */
interface NameRecord {
  name: string;
  kind: "classification" | "regression";
  columns: Columns;
  versions: { version: number; id: string; createdAt: string }[];
}

export interface DatasetVersionView {
  name: string;
  version: number;
  dataset: DatasetView;
}

export interface DatasetServiceOptions {
  location: string;
  endpoint?: string;
  now: () => number;
  presignSeconds: number;
  /** streams a CSV upload into the store (csvUpload.ts: ingestCsv, or a worker running it) */
  ingest: CsvIngester;
}

/** A refusal of the data, as the service's domain error (400 naming the columns or the data). */
function refused(e: unknown): never {
  if (e instanceof ColumnsError) throw invalid(e.message, [{ path: "columns", message: e.problems.join("; ") }]);
  if (e instanceof DataError) throw invalid(e.message, [{ path: "", message: e.message }]);
  throw e;
}

export class DatasetService {
  private readonly names = new KeyedLock();
  readonly records: DatasetRecords;

  constructor(
    private readonly root: BlobStore,
    private readonly opts: DatasetServiceOptions,
  ) {
    this.records = new DatasetRecords(root);
  }

  private async nameRecord(name: string): Promise<NameRecord | null> {
    if (!DATASET_NAME.test(name)) return null;
    try {
      return (await getJson(this.root, `dataset-names/${name}.json`)) as NameRecord;
    } catch (e) {
      if (e instanceof NotFoundError) return null;
      throw e;
    }
  }

  /**
   * Appends a version to the named dataset, one at a time per name: `store` registers the data,
   * given version 1's columns to match (none for version 1), and answers its columns.
   */
  private addNamed<T extends { dataset: DatasetView }>(
    name: string,
    kind: NameRecord["kind"],
    store: (expect?: Columns) => Promise<T & { columns: Columns }>,
  ): Promise<T & { name: string; version: number }> {
    if (!DATASET_NAME.test(name))
      throw invalid("a dataset name is 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit", [
        { path: "name", message: "invalid name" },
      ]);
    return this.names.run(name, async () => {
      const rec = await this.nameRecord(name);
      if (rec && rec.kind !== kind)
        throw invalid(`dataset "${name}" is a ${rec.kind} dataset; this version is ${kind}`, [
          { path: "kind", message: `expected ${rec.kind}` },
        ]);
      const stored = await store(rec?.columns);
      const version = (rec?.versions.length ?? 0) + 1;
      const next: NameRecord = {
        name,
        kind,
        columns: rec?.columns ?? stored.columns,
        versions: [...(rec?.versions ?? []), { version, id: stored.dataset.id, createdAt: stored.dataset.createdAt }],
      };
      try {
        await putJson(this.root, `dataset-names/${name}.json`, next);
      } catch (e) {
        await this.records.discard(stored.dataset.id);
        throw e;
      }
      return { ...stored, name, version };
    });
  }

  /** A new version of the named dataset `name` from a CSV upload: its columns must be the first version's. */
  async addVersion(name: string, source: ByteSource, opts: CsvUploadOptions): Promise<DatasetVersionView> {
    const v = await this.addNamed(name, opts.kind, (expect) =>
      this.storeCsv(source, { ...opts, ...(expect ? { expect } : {}) }, name),
    );
    return { name: v.name, version: v.version, dataset: v.dataset };
  }

  /**
   * A new version whose sharded files the client uploads through presigned URLs (S3 stores): the
   * declared columns are checked against version 1's now, and the uploaded manifest's against the
   * declared ones when the version is read. "latest" means the latest version that is ready.
   */
  async registerVersion(
    name: string,
    body: Omit<Registration, "name"> & { columns: Columns },
  ): Promise<DatasetVersionView & { uploads: Upload[]; expiresInSeconds: number }> {
    const v = await this.addNamed(name, body.kind, async (expect) => {
      if (expect) {
        try {
          checkColumns(expect, body.columns);
        } catch (e) {
          refused(e);
        }
      }
      return {
        ...(await this.registerUpload({ name, kind: body.kind, files: body.files }, body.columns)),
        columns: body.columns,
      };
    });
    return {
      name: v.name,
      version: v.version,
      dataset: v.dataset,
      uploads: v.uploads,
      expiresInSeconds: v.expiresInSeconds,
    };
  }

  /** The versions of a named dataset, oldest first. */
  async versions(name: string): Promise<DatasetVersionView[]> {
    const rec = await this.nameRecord(name);
    if (!rec) throw notFound(`dataset "${name.slice(0, 80)}"`);
    const out: DatasetVersionView[] = [];
    for (const v of rec.versions) out.push({ name, version: v.version, dataset: await this.records.get(v.id) });
    return out;
  }

  /** The job with a named dataset pinned: `version` ("latest" by default) resolved to a number and its dataset id. */
  async resolve(spec: JobSpec): Promise<JobSpec> {
    const p = spec.problem;
    if (
      (p.type !== "classification" && p.type !== "regression") ||
      p.data.source !== "dataset" ||
      p.data.name === undefined
    )
      return spec;
    const name = p.data.name;
    const rec = await this.nameRecord(name);
    if (!rec)
      throw invalid(`no dataset named "${name}": upload a version with POST /datasets/${name}/versions`, [
        { path: "problem.data.name", message: "unknown dataset" },
      ]);
    const want = p.data.version ?? "latest";
    let v: NameRecord["versions"][number] | undefined;
    if (want === "latest") {
      // the latest version whose files are all uploaded
      for (let i = rec.versions.length - 1; i >= 0 && !v; i--) {
        const r = await this.records.record(rec.versions[i].id);
        if (r && (await this.records.ready(r))) v = rec.versions[i];
      }
      if (!v)
        throw invalid(`dataset "${name}" has no version whose files are all uploaded yet`, [
          { path: "problem.data.name", message: "no ready version" },
        ]);
    } else {
      v = rec.versions.find((x) => x.version === want);
      if (!v)
        throw invalid(`dataset "${name}" has versions 1 to ${rec.versions.length}; there is no version ${want}`, [
          { path: "problem.data.version", message: "no such version" },
        ]);
    }
    return { ...spec, problem: { ...p, data: { ...p.data, version: v.version, id: v.id } } } as JobSpec;
  }

  /** Registers a CSV upload: streamed, standardized, split and stored in the sharded format. */
  async uploadCsv(source: ByteSource, opts: CsvUploadOptions & { name: string }): Promise<DatasetView> {
    return (await this.storeCsv(source, opts, opts.name)).dataset;
  }

  private async storeCsv(
    source: ByteSource,
    req: IngestRequest,
    name: string,
  ): Promise<{ dataset: DatasetView; columns: Columns }> {
    const rec: DatasetRecord = {
      id: newId("d"),
      name,
      kind: req.kind,
      createdAt: new Date(this.opts.now()).toISOString(),
    };
    try {
      const manifest = await this.opts.ingest(source, req, {
        location: this.opts.location,
        endpoint: this.opts.endpoint,
        prefix: datasetFile(rec.id, ""),
      });
      await putJson(this.root, datasetFile(rec.id, "manifest.json"), manifest);
      rec.shape = {
        rows: { train: manifest.splits.train.rows, test: manifest.splits.test.rows },
        features: manifest.features,
        outputs: manifest.outputs,
      };
      await this.records.commit(rec);
      return { dataset: await this.records.view(rec), columns: manifest.columns ?? { features: [] } };
    } catch (e) {
      await this.records.discard(rec.id);
      return refused(e);
    }
  }

  /** Registers a dataset whose sharded files the client uploads itself, through presigned URLs. */
  async registerUpload(
    body: Registration,
    columns?: Columns,
  ): Promise<{ dataset: DatasetView; uploads: Upload[]; expiresInSeconds: number }> {
    if (!this.root.presign) throw invalid("this server's store takes no direct uploads; POST the data as text/csv");
    if (!body.files.some((f) => f.path === "manifest.json"))
      throw invalid("the files include manifest.json (the sharded format's index, as enkf data writes it)", [
        { path: "files", message: "no manifest.json" },
      ]);
    const rec: DatasetRecord = {
      id: newId("d"),
      name: body.name,
      kind: body.kind,
      createdAt: new Date(this.opts.now()).toISOString(),
      files: body.files,
      ...(columns ? { columns } : {}),
    };
    await this.records.commit(rec);
    const seconds = this.opts.presignSeconds;
    const uploads = [];
    for (const f of body.files)
      uploads.push({
        path: f.path,
        method: "PUT" as const,
        ...(await this.root.presign(datasetFile(rec.id, f.path), "put", seconds, f.sha256)),
      });
    return { dataset: await this.records.view(rec), uploads, expiresInSeconds: seconds };
  }

  list(limit: number, cursor?: string): Promise<{ datasets: DatasetView[]; nextCursor: string | null }> {
    return this.records.list(limit, cursor);
  }

  get(id: string): Promise<DatasetView> {
    return this.records.get(id);
  }

  /** The dataset a job trains on: mnist or a registered dataset; files on the server are refused. */
  async forJob(spec: JobSpec): Promise<Dataset> {
    if (spec.problem.type !== "classification" && spec.problem.type !== "regression") {
      throw invalid(
        `the service trains networks (problem.type "classification" or "regression") and ` +
          `calibrates inverse problems; "${spec.problem.type}" runs with enkf run`,
        [{ path: "problem.type", message: "not served over HTTP" }],
      );
    }
    const data = spec.problem.data;
    if (data.source !== "mnist" && data.source !== "dataset") {
      throw invalid(
        `data source "${data.source}" reads files on the server; register the data with POST ` +
          `/datasets and use {"source": "dataset", "id": …}`,
        [{ path: "problem.data.source", message: 'use "dataset" or "mnist"' }],
      );
    }
    try {
      return await loadDataset(data, spec.problem.type, "/", (id) => this.read(id));
    } catch (e) {
      if (e instanceof DataError) throw invalid(e.message, [{ path: "problem.data", message: e.message }]);
      throw e;
    }
  }

  private async read(id: string): Promise<Dataset> {
    const rec = await this.records.record(id);
    if (!rec) throw new DataError(`no dataset "${id}": register it with POST /datasets`);
    if (!(await this.records.ready(rec)))
      throw new DataError(`dataset ${id} is still waiting for its files to be uploaded`);
    const read = (path: string) => this.root.get(datasetFile(id, path));
    try {
      const manifest = parseManifest(new TextDecoder().decode(await read("manifest.json")), `dataset ${id}`);
      if (rec.columns && JSON.stringify(manifest.columns ?? null) !== JSON.stringify(rec.columns)) {
        throw new DataError(
          `dataset ${id}: the uploaded manifest's columns ` +
            `${JSON.stringify(manifest.columns ?? null)} are not the ${JSON.stringify(rec.columns)} ` +
            `this version was registered with`,
        );
      }
      return await decodeShards(manifest, read, `dataset ${id}`);
    } catch (e) {
      // an upload whose bytes do not match the sha256 it was registered with
      if (e instanceof IntegrityError) throw new DataError(`dataset ${id}: ${e.message}; upload that file again`);
      throw e;
    }
  }
}
