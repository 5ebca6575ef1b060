// Registered datasets' records and their listing. Layout under the service's store:
//   datasets/<id>/dataset.json    the record: name, kind, creation time, and its shape (rows,
//                                 features, outputs) once its files are in place
//   datasets/<id>/manifest.json + files   the sharded format
//   dataset-index/<id>            empty markers, one per dataset, that list them without reading
//                                 their files; written last, so a dataset exists once it has one
// A store written before the index had none: the first listing adds the missing markers.

import { parseManifest } from "../data/shards.ts";
import { DataError } from "../data/errors.ts";
import type { DatasetView } from "../spec/api.ts";
import { getJson, NotFoundError, putJson, type BlobStore } from "../store/blobStore.ts";
import { invalid, notFound } from "./errors.ts";

export interface DatasetRecord {
  id: string;
  name: string;
  kind: "classification" | "regression";
  createdAt: string;
  /** files still to be uploaded through presigned URLs (AWS registration) */
  files?: { path: string; sha256: string }[];
  /** a named dataset's version registered for upload: the columns its manifest must have */
  columns?: { features: string[]; label?: string };
  /** known once the files are in place (absent from records written before it was kept) */
  shape?: { rows: { train: number; test: number }; features: number; outputs: number };
}

const INDEX = "dataset-index/";
const validId = (id: string) => /^[a-z0-9][a-z0-9-]{0,63}$/.test(id);
export const datasetFile = (id: string, path: string) => `datasets/${id}/${path}`;

export class DatasetRecords {
  private indexed?: Promise<void>;

  constructor(private readonly root: BlobStore) {}

  async record(id: string): Promise<DatasetRecord | null> {
    if (!validId(id)) return null;
    try {
      return (await getJson(this.root, datasetFile(id, "dataset.json"))) as DatasetRecord;
    } catch (e) {
      if (e instanceof NotFoundError) return null;
      throw e;
    }
  }

  /** Writes the record, then its index marker: the dataset exists from then on. */
  async commit(rec: DatasetRecord): Promise<void> {
    await putJson(this.root, datasetFile(rec.id, "dataset.json"), rec);
    await this.root.put(INDEX + rec.id, new Uint8Array(0));
  }

  /** Removes what a registration that did not complete wrote (best effort: a failing disk may refuse). */
  async discard(id: string): Promise<void> {
    for (const k of await this.root.list(`datasets/${id}/`).catch((): string[] => []))
      await this.root.delete(k).catch(() => undefined);
    await this.root.delete(INDEX + id).catch(() => undefined);
  }

  async ready(rec: DatasetRecord): Promise<boolean> {
    if (!rec.files) return true;
    for (const f of rec.files) if (!(await this.root.has(datasetFile(rec.id, f.path)))) return false;
    return true;
  }

  async view(rec: DatasetRecord): Promise<DatasetView> {
    const ready = await this.ready(rec);
    let shape: Partial<DatasetRecord["shape"]> = rec.shape ?? {};
    if (ready && !rec.shape) {
      // a record from before shapes were kept, or a presigned upload: its manifest says
      try {
        const m = parseManifest(
          new TextDecoder().decode(await this.root.get(datasetFile(rec.id, "manifest.json"))),
          `dataset ${rec.id}`,
        );
        shape = {
          rows: { train: m.splits.train.rows, test: m.splits.test.rows },
          features: m.features,
          outputs: m.outputs,
        };
      } catch (e) {
        if (!(e instanceof DataError) && !(e instanceof NotFoundError)) throw e;
      }
    }
    return {
      id: rec.id,
      name: rec.name,
      kind: rec.kind,
      status: ready ? "ready" : "pending",
      createdAt: rec.createdAt,
      ...shape,
      links: { self: `/datasets/${rec.id}` },
    };
  }

  async get(id: string): Promise<DatasetView> {
    const rec = await this.record(id);
    if (!rec) throw notFound(`dataset ${id.slice(0, 80)}`);
    return this.view(rec);
  }

  /** A page of datasets in id order (ids begin with their creation time): at most `limit` records read. */
  async list(limit: number, cursor?: string): Promise<{ datasets: DatasetView[]; nextCursor: string | null }> {
    if (cursor !== undefined && !validId(cursor))
      throw invalid("cursor is not one this API returned", [{ path: "cursor", message: "invalid" }]);
    await (this.indexed ??= this.index());
    const ids = (await this.root.list(INDEX))
      .map((k) => k.slice(INDEX.length))
      .filter((id) => cursor === undefined || id > cursor);
    const out: DatasetView[] = [];
    for (const id of ids.slice(0, limit)) {
      const rec = await this.record(id);
      if (rec) out.push(await this.view(rec));
    }
    return { datasets: out, nextCursor: ids.length > limit ? ids[limit - 1] : null };
  }

  /** Adds the markers of datasets registered before the index (once per process; again after a failed write). */
  private async index(): Promise<void> {
    const marked = new Set((await this.root.list(INDEX)).map((k) => k.slice(INDEX.length)));
    try {
      for (const k of await this.root.list("datasets/")) {
        const m = /^datasets\/([^/]+)\/dataset\.json$/.exec(k);
        if (m && !marked.has(m[1])) await this.root.put(INDEX + m[1], new Uint8Array(0));
      }
    } catch {
      this.indexed = undefined; // a full disk, say: the listing goes on with the markers there are
    }
  }
}
