// A job's dataset files: in its own store (dataset/<file>), or, for the service's jobs, once in
// the service's content-addressed folder (blobs/<sha256>), whichever jobs train on them:
// dataset/source.json names that folder relative to the job's store. The manifest stays with the
// job (dataset/manifest.json) and names every file by its sha256, which every read checks.

import type { EncodedDataset } from "../data/shards.ts";
import type { DatasetManifest } from "../data/manifest.ts";
import { getJson, putJson, type BlobStore } from "../store/blobStore.ts";
import { keys } from "./jobStore.ts";

const SOURCE = "dataset/source.json";

/** Writes the files (into `blobs`, a folder relative to the job's store, when given) and the manifest. */
export async function writeDatasetFiles(store: BlobStore, encoded: EncodedDataset, blobs?: string): Promise<void> {
  if (blobs) {
    const shared = store.sibling(blobs);
    const sums = new Map(encoded.files.map((f) => [f.path, fileSum(encoded.manifest, f.path)]));
    for (const f of encoded.files)
      if (!(await shared.has(sums.get(f.path)!))) await shared.put(sums.get(f.path)!, f.bytes);
    await putJson(store, SOURCE, { blobs });
  } else {
    for (const f of encoded.files) await store.put(keys.datasetFile(f.path), f.bytes);
  }
  await putJson(store, keys.manifest, encoded.manifest);
}

/** Reads a dataset file of the job by its path in the manifest. */
export async function datasetReader(
  store: BlobStore,
  manifest: DatasetManifest,
): Promise<(path: string) => Promise<Uint8Array>> {
  if (!(await store.has(SOURCE))) return (path) => store.get(keys.datasetFile(path));
  const shared = store.sibling(((await getJson(store, SOURCE)) as { blobs: string }).blobs);
  return (path) => shared.get(fileSum(manifest, path));
}

function fileSum(m: DatasetManifest, path: string): string {
  for (const split of [m.splits.train, m.splits.validation, m.splits.test]) {
    for (const s of split?.shards ?? []) for (const f of [s.x, s.y]) if (f.path === path) return f.sha256;
  }
  throw new RangeError(`the manifest has no file ${path}`);
}
