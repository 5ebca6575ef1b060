// Registered datasets: CSV uploads streamed into the sharded format (csvUpload.ts), or sharded
// files the client uploads itself through presigned URLs, and the data a submitted job trains on.
// Records and listing: datasetRecords.ts; named datasets with versions: datasets.ts. A
// registration that does not complete leaves nothing behind.

import { DataError } from "../data/errors.ts";
import { loadDataset } from "../data/load.ts";
import { decodeShards, parseManifest } from "../data/shards.ts";
import type { Dataset } from "../data/types.ts";
import type { DatasetView } from "../spec/api.ts";
import type { JobSpec } from "../spec/job.ts";
import { IntegrityError, putJson, type BlobStore } from "../store/blobStore.ts";
import {
  ColumnsError,
  type ByteSource,
  type CsvIngester,
  type CsvUploadOptions,
  type IngestRequest,
} from "./csvUpload.ts";
import { datasetFile, DatasetRecords, type DatasetRecord } from "./datasetRecords.ts";
import { invalid } from "./errors.ts";
import { newId } from "./idempotency.ts";

export type Upload = { path: string; url: string; method: "PUT"; headers: Record<string, string> };
export type Columns = { features: string[]; label?: string };

export interface Registration {
  name: string;
  kind: "classification" | "regression";
  files: { path: string; sha256: string }[];
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
export function refused(e: unknown): never {
  if (e instanceof ColumnsError) throw invalid(e.message, [{ path: "columns", message: e.problems.join("; ") }]);
  if (e instanceof DataError) throw invalid(e.message, [{ path: "", message: e.message }]);
  throw e;
}

export class DatasetRegistry {
  readonly records: DatasetRecords;

  constructor(
    protected readonly root: BlobStore,
    protected readonly opts: DatasetServiceOptions,
  ) {
    this.records = new DatasetRecords(root);
  }

  /** Registers a CSV upload: streamed, standardized, split and stored in the sharded format. */
  async uploadCsv(source: ByteSource, opts: CsvUploadOptions & { name: string }): Promise<DatasetView> {
    return (await this.storeCsv(source, opts, opts.name)).dataset;
  }

  protected async storeCsv(
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
