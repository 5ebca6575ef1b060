// Loads the dataset a job names (the I/O side of data/): reads files relative to the job's folder.

import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { isAbsolute, resolve } from "node:path";
import type { DataSpec } from "../spec/job.ts";
import { decodeNpy } from "../formats/npy.ts";
import { csvDataset } from "./csv.ts";
import { DataError } from "./errors.ts";
import { npyDataset, type NpyPair } from "./npy.ts";
import { decodeIdx, IdxError, type IdxArray } from "../formats/idx.ts";
import { idxDataset, type IdxPair } from "./idx.ts";
import { readShardDirectory } from "./shardDirectory.ts";
import { loadMnist } from "./mnist.ts";
import type { Dataset } from "./types.ts";
import { withValidation } from "./validation.ts";

async function readData(baseDir: string, file: string): Promise<{ path: string; bytes: Buffer }> {
  const path = isAbsolute(file) ? file : resolve(baseDir, file);
  try {
    return { path, bytes: await readFile(path) };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // a dataset Debian packages (dataset-fashion-mnist puts its files in /usr/share/datasets/fashion-mnist/)
    const debian = /^\/usr\/share\/datasets\/([a-z0-9.+-]+)\//.exec(path)?.[1];
    const hint = code === "ENOENT" && debian ? ` (install Debian's package: apt-get install dataset-${debian})` : "";
    throw new DataError(
      `cannot read data file ${path}: ` +
        `${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (e as Error).message}` +
        hint,
    );
  }
}

const gunzipAsync = promisify(gunzip);

function npy(d: { path: string; bytes: Buffer }) {
  try {
    return decodeNpy(d.bytes, d.path);
  } catch (e) {
    throw new DataError((e as Error).message);
  }
}

/** A file source's split options, testFraction's default filled in (it applies without test files only). */
const splitOf = (spec: { standardize: boolean; testFraction?: number; seed: number }) => ({
  standardize: spec.standardize,
  testFraction: spec.testFraction ?? 0.2,
  seed: spec.seed,
});

/** An IDX file, gunzipped when it is gzipped (by its bytes, whatever its name). */
async function readIdx(baseDir: string, file: string, dims: number): Promise<{ path: string; array: IdxArray }> {
  const { path, bytes } = await readData(baseDir, file);
  try {
    const raw = bytes[0] === 0x1f && bytes[1] === 0x8b ? await gunzipAsync(bytes) : bytes;
    return { path, array: decodeIdx(raw, dims, path) };
  } catch (e) {
    if (e instanceof IdxError) throw new DataError(e.message);
    throw new DataError(`${path}: not a readable gzip file: ${(e as Error).message}`);
  }
}

/** Finds a dataset registered with the service (the `dataset` source); absent outside the service. */
export type DatasetResolver = (id: string) => Promise<Dataset>;

/** The dataset a job names, with its validation split carved from the training rows (validation.ts). */
export async function loadDataset(
  spec: DataSpec,
  kind: "classification" | "regression",
  baseDir: string,
  registered?: DatasetResolver,
): Promise<Dataset> {
  const ds = await loadSource(spec, kind, baseDir, registered);
  return withValidation(
    ds,
    spec.validationFraction,
    spec.source === "mnist"
      ? "mnist"
      : spec.source === "dataset"
        ? `dataset ${spec.id ?? spec.name}`
        : `data (${spec.source})`,
  );
}

async function loadSource(
  spec: DataSpec,
  kind: "classification" | "regression",
  baseDir: string,
  registered?: DatasetResolver,
): Promise<Dataset> {
  switch (spec.source) {
    case "dataset": {
      if (!registered)
        throw new DataError(
          `data source "dataset" names a dataset registered with the service (POST /datasets); enkf ` +
            `run reads files: use "csv", "npy" or "shards"`,
        );
      if (spec.id === undefined)
        throw new DataError(
          `dataset "${spec.name}" is a named dataset of the service; its version resolves when the ` +
            `service creates the job`,
        );
      const ds = await registered(spec.id);
      if (ds.kind !== kind)
        throw new DataError(`dataset ${spec.id} is a ${ds.kind} dataset, but the problem is ${kind}`);
      return ds;
    }
    case "mnist":
      if (kind !== "classification")
        throw new DataError('the mnist source holds class labels; use problem.type "classification"');
      return loadMnist();
    case "csv": {
      const { path, bytes } = await readData(baseDir, spec.path);
      const test = spec.testPath !== undefined ? await readData(baseDir, spec.testPath) : undefined;
      return csvDataset(
        bytes.toString("utf8"),
        path,
        { label: spec.label, kind, ...splitOf(spec) },
        test ? { text: test.bytes.toString("utf8"), file: test.path } : undefined,
      );
    }
    case "npy": {
      const pair = async (features: string, labels: string): Promise<NpyPair> => {
        const [f, l] = [await readData(baseDir, features), await readData(baseDir, labels)];
        return { features: npy(f), labels: npy(l), files: { features: f.path, labels: l.path } };
      };
      const test =
        spec.testFeatures !== undefined && spec.testLabels !== undefined
          ? await pair(spec.testFeatures, spec.testLabels)
          : undefined;
      return npyDataset(await pair(spec.features, spec.labels), test, kind, splitOf(spec));
    }
    case "idx": {
      if (kind !== "classification")
        throw new DataError('the idx source holds class labels; use problem.type "classification"');
      const pair = async (images: string, labels: string): Promise<IdxPair> => {
        const [im, lb] = [await readIdx(baseDir, images, 3), await readIdx(baseDir, labels, 1)];
        return { images: im.array, labels: lb.array, files: { images: im.path, labels: lb.path } };
      };
      const train = await pair(spec.images, spec.labels);
      const test =
        spec.testImages !== undefined && spec.testLabels !== undefined
          ? await pair(spec.testImages, spec.testLabels)
          : undefined;
      return idxDataset(train, test, splitOf(spec));
    }
    case "shards": {
      const dir = isAbsolute(spec.path) ? spec.path : resolve(baseDir, spec.path);
      const ds = await readShardDirectory(dir);
      if (ds.kind !== kind) throw new DataError(`${dir} holds a ${ds.kind} dataset, but the problem is ${kind}`);
      return ds;
    }
  }
}
