// The jobs' index: one empty marker per job, index/<inverted time>-<id>, so a listing reads jobs
// newest first, a page at a time, without opening them. A submission writes its marker just
// before its record (the commit point, jobs.ts); one that fails, or that a crash cut short
// (a marker without its record), is discarded with everything it wrote.

import type { BlobStore } from "../store/blobStore.ts";
import { invalid } from "./errors.ts";

const PREFIX = "index/";
const INVERT = 10 ** 13;

export class JobIndex {
  constructor(private readonly root: BlobStore) {}

  /** The marker of a job created at `time` (ms). */
  marker(id: string, time: number): string {
    return `${PREFIX}${String(INVERT - time).padStart(13, "0")}-${id}`;
  }

  /** Every job's id and marker, newest first. */
  async all(): Promise<{ id: string; marker: string }[]> {
    return (await this.root.list(PREFIX)).map((marker) => ({ id: marker.slice(marker.indexOf("-") + 1), marker }));
  }

  /** A page of ids after `cursor` (a marker's name, as nextCursor gives it). */
  async page(limit: number, cursor?: string): Promise<{ ids: string[]; nextCursor: string | null }> {
    if (cursor !== undefined && !/^\d{13}-[a-z0-9-]{1,64}$/.test(cursor))
      throw invalid("cursor is not one this API returned", [{ path: "cursor", message: "invalid" }]);
    const all = await this.root.list(PREFIX);
    const start = cursor ? all.findIndex((k) => k > `${PREFIX}${cursor}`) : 0;
    const page = start < 0 ? [] : all.slice(start, start + limit);
    const more = start >= 0 && start + limit < all.length;
    return {
      ids: page.map((k) => k.slice(k.indexOf("-") + 1)),
      nextCursor: more ? page[page.length - 1].slice(PREFIX.length) : null,
    };
  }

  /** Removes a job that was never committed: its objects and its marker (best effort: a failing disk may refuse). */
  async discard(id: string, marker?: string): Promise<void> {
    for (const k of await this.root.list(`jobs/${id}/`).catch((): string[] => []))
      await this.root.delete(k).catch(() => undefined);
    const markers = marker ? [marker] : (await this.all()).filter((m) => m.id === id).map((m) => m.marker);
    for (const k of markers) await this.root.delete(k).catch(() => undefined);
  }
}
