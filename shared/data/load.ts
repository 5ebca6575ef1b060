// Loads the dataset a job names (the I/O side of data/): reads files relative to the job's folder.

import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import type { DataSpec } from "../spec/job.ts";
import { decodeNpy } from "../formats/npy.ts";
import { csvDataset } from "./csv.ts";
import { DataError } from "./errors.ts";
import { npyDataset } from "./npy.ts";
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
    throw new DataError(
      `cannot read data file ${path}: ` +
        `${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (e as Error).message}`,
    );
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
      return csvDataset(bytes.toString("utf8"), path, {
        label: spec.label,
        kind,
        standardize: spec.standardize,
        testFraction: spec.testFraction,
        seed: spec.seed,
      });
    }
    case "npy": {
      const f = await readData(baseDir, spec.features);
      const l = await readData(baseDir, spec.labels);
      const decode = (d: { path: string; bytes: Buffer }) => {
        try {
          return decodeNpy(d.bytes, d.path);
        } catch (e) {
          throw new DataError((e as Error).message);
        }
      };
      return npyDataset(decode(f), decode(l), { features: f.path, labels: l.path }, kind, spec);
    }
    case "shards": {
      const dir = isAbsolute(spec.path) ? spec.path : resolve(baseDir, spec.path);
      const ds = await readShardDirectory(dir);
      if (ds.kind !== kind) throw new DataError(`${dir} holds a ${ds.kind} dataset, but the problem is ${kind}`);
      return ds;
    }
  }
}
