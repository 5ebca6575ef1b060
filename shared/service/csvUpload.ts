// A CSV upload → a registered dataset's files: its bytes streamed through CsvIngest
// (shared/data/csvIngest.ts) into the store under the dataset's prefix, in memory bounded
// whatever the size. `ingestCsv` runs in the calling thread (the Lambda API: one request per
// instance, bodies under 6 MB); enkf serve runs the same function on a worker thread
// (local/ingest.ts), so a large upload never stalls its other requests.

import { CsvIngest } from "../data/csvIngest.ts";
import { DataError } from "../data/errors.ts";
import type { DatasetManifest } from "../data/manifest.ts";
import { StoreError, StoreFullError } from "../store/blobStore.ts";
import { openStore } from "../store/openStore.ts";

export interface CsvUploadOptions {
  label: string;
  kind: "classification" | "regression";
  testFraction: number;
  seed: number;
}

export interface IngestRequest extends CsvUploadOptions {
  /** the columns a later version of a named dataset must have (version 1's) */
  expect?: { features: string[]; label?: string };
}

/** Where the files go: the service's store, and the dataset's prefix in it ("datasets/<id>/"). */
export interface IngestTarget {
  location: string;
  endpoint?: string;
  prefix: string;
}

/** An upload's bytes, in pieces as they arrive (or all at once). */
export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export type CsvIngester = (source: ByteSource, req: IngestRequest, target: IngestTarget) => Promise<DatasetManifest>;

/** Columns that do not match a named dataset's version 1 (their problems, one per kind). */
export class ColumnsError extends DataError {
  override name = "ColumnsError";
  constructor(
    readonly problems: string[],
    message: string,
  ) {
    super(message);
  }
}

/** What differs between version 1's columns and these (empty: they match). */
export function columnProblems(
  expected: { features: string[]; label?: string },
  got: { features: string[]; label?: string },
): string[] {
  const missing = expected.features.filter((c) => !got.features.includes(c)),
    extra = got.features.filter((c) => !expected.features.includes(c));
  return [
    ...(missing.length ? [`missing ${missing.map((c) => `"${c}"`).join(", ")}`] : []),
    ...(extra.length ? [`new ${extra.map((c) => `"${c}"`).join(", ")}`] : []),
    ...(!missing.length && !extra.length && expected.features.join(",") !== got.features.join(",")
      ? ["the same columns in another order"]
      : []),
    ...(expected.label !== got.label ? [`label "${got.label}" where version 1 has "${expected.label}"`] : []),
  ];
}

/** Throws ColumnsError naming what differs from version 1's columns. */
export function checkColumns(
  expected: { features: string[]; label?: string },
  got: { features: string[]; label?: string },
): void {
  const p = columnProblems(expected, got);
  if (p.length)
    throw new ColumnsError(
      p,
      `this version's columns do not match version 1 (${expected.features.join(", ")}; label ` +
        `${expected.label}): ${p.join("; ")}`,
    );
}

export const ingestCsv: CsvIngester = async (source, req, target) => {
  const store = openStore(target.location, { endpoint: target.endpoint });
  const expect = req.expect;
  const ingest = new CsvIngest("the upload", {
    ...req,
    standardize: true,
    ...(expect ? { columns: (c: { features: string[]; label: string }) => checkColumns(expect, c) } : {}),
  });
  try {
    for await (const chunk of source) ingest.push(chunk);
  } catch (e) {
    ingest.close();
    throw e;
  }
  return ingest.finish(async (path, bytes) => {
    await store.put(target.prefix + path, bytes);
  });
};

/** An ingest error as plain data, to cross a thread, and back. */
export function errorData(e: unknown): { name: string; message: string; problems?: string[] } {
  const err = e as Error & { problems?: string[] };
  return {
    name: err.name ?? "Error",
    message: err.message ?? String(e),
    ...(err.problems ? { problems: err.problems } : {}),
  };
}

export function errorFromData(d: ReturnType<typeof errorData>): Error {
  if (d.name === "ColumnsError") return new ColumnsError(d.problems ?? [], d.message);
  if (d.name === "DataError") return new DataError(d.message);
  if (d.name === "StoreFullError") return new StoreFullError(d.message);
  if (d.name.endsWith("StoreError") || d.name === "IntegrityError" || d.name === "NotFoundError")
    return new StoreError(d.message);
  return Object.assign(new Error(d.message), { name: d.name });
}
