// Loads the dataset a job names (the I/O side of data/): reads files relative to the job's folder.

import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import type { DataSpec } from "../spec/job.ts";
import { csvDataset, DataError } from "./csv.ts";
import { loadMnist } from "./mnist.ts";
import type { Dataset } from "./types.ts";

export async function loadDataset(spec: DataSpec, kind: "classification" | "regression", baseDir: string): Promise<Dataset> {
  switch (spec.source) {
    case "mnist":
      if (kind !== "classification") throw new DataError("the mnist source holds class labels; use problem.type \"classification\"");
      return loadMnist();
    case "csv": {
      const path = isAbsolute(spec.path) ? spec.path : resolve(baseDir, spec.path);
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new DataError(`cannot read data file ${path}: ${code === "ENOENT" ? "no such file" : (e as Error).message}`);
      }
      return csvDataset(text, path, { label: spec.label, kind, standardize: spec.standardize, testFraction: spec.testFraction, seed: spec.seed });
    }
  }
}
