// Named datasets with versions over the registry (datasetRegistry.ts): dataset-names/<name>.json
// holds a name's columns and its versions, each a dataset id, immutable once written; a job naming
// a dataset is pinned to a version ("latest": the newest whose files are all uploaded).

import type { DatasetView } from "../spec/api.ts";
import type { JobSpec } from "../spec/job.ts";
import { DATASET_NAME } from "../spec/job.ts";
import { getJson, NotFoundError, putJson } from "../store/blobStore.ts";
import { checkColumns, type ByteSource, type CsvUploadOptions } from "./csvUpload.ts";
import { invalid, notFound } from "./errors.ts";
import { KeyedLock } from "./idempotency.ts";
import { DatasetRegistry, refused, type Columns, type Registration, type Upload } from "./datasetRegistry.ts";

export type { DatasetServiceOptions, Registration } from "./datasetRegistry.ts";

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

export class DatasetService extends DatasetRegistry {
  private readonly names = new KeyedLock();
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
}
